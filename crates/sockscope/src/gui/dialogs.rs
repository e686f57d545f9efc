//! File dialogs that never block the window. The native dialog (rfd) runs on a helper thread
//! and its answer comes back through a channel, so frames and ingest go on while it is open.
//! Where no native dialog can be shown — no desktop portal and no zenity, as on a bare i3 or
//! sway session — an in-app prompt asks for the path instead, and the log says why.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use eframe::egui;

use super::i18n::{S, t, tf};
use super::model::FileRequest;

/// A native dialog that answers faster than this did not really open (a person needs longer
/// to choose a file): rfd returns "cancelled" at once when no portal and no zenity answer.
const TOO_FAST: Duration = Duration::from_millis(250);

/// Asks the user for a file. Called on a helper thread, never on the UI thread, so it may block
/// for as long as the user takes. A trait so UI tests answer it themselves.
pub trait FilePicker: Send + Sync {
    /// The chosen path, or `None` if the user cancelled (or no dialog could be shown).
    fn pick(&self, request: &FileRequest) -> Option<PathBuf>;

    /// False for pickers that are not a native dialog: their quick "no" is a real "no".
    fn native(&self) -> bool {
        false
    }

    /// The window the dialogs belong to (on Windows its HWND; 0: none known), so a dialog
    /// opens in front of it and keeps it from being used until answered.
    fn set_owner(&self, _window: isize) {}
}

/// The file type a saved file is offered as, from the name suggested for it (`log.csv`: "CSV
/// files", `csv`); none for a name without an extension.
fn file_type(request: &FileRequest) -> Option<(String, String)> {
    if !request.saves() {
        return None;
    }
    let name = request.suggested_name();
    let extension = std::path::Path::new(&name)
        .extension()?
        .to_str()?
        .to_owned();
    Some((
        tf(S::DialogFilesOfType, &[&extension.to_uppercase()]),
        extension,
    ))
}

/// The native dialog (rfd).
#[derive(Default)]
pub struct NativeFilePicker {
    /// The main window's HWND on Windows (0 until known, and elsewhere).
    owner: std::sync::atomic::AtomicIsize,
}

impl FilePicker for NativeFilePicker {
    fn pick(&self, request: &FileRequest) -> Option<PathBuf> {
        let mut dialog = rfd::AsyncFileDialog::new().set_title(request.title());
        if matches!(
            request,
            FileRequest::OpenProfile | FileRequest::SaveProfile(_)
        ) {
            dialog = dialog.add_filter(t(S::DialogProfileFilter), &[crate::profile::EXTENSION]);
        } else if matches!(
            request,
            FileRequest::OpenSpec(_) | FileRequest::ExportSpec(_)
        ) {
            dialog = dialog.add_filter(t(S::DialogSpecFilter), &["ron"]);
        } else if let Some((label, extension)) = file_type(request) {
            // An export offers its own type ("CSV files"), not only "All files".
            dialog = dialog.add_filter(label, &[extension.as_str()]);
        }
        #[cfg(windows)]
        {
            let owner = self.owner.load(std::sync::atomic::Ordering::Relaxed);
            if let Some(owner) = owner::Owner::new(owner) {
                dialog = dialog.set_parent(&owner);
            }
        }
        let picked = if request.saves() {
            let dialog = dialog.set_file_name(request.suggested_name());
            pollster::block_on(dialog.save_file())
        } else {
            pollster::block_on(dialog.pick_file())
        };
        picked.map(|handle| handle.path().to_path_buf())
    }

    fn native(&self) -> bool {
        true
    }

    fn set_owner(&self, window: isize) {
        self.owner
            .store(window, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The main window as the owner of a Windows file dialog (without one the dialog can open
/// behind the window, and the window takes clicks meanwhile).
#[cfg(windows)]
mod owner {
    use raw_window_handle::{
        DisplayHandle, HandleError, HasDisplayHandle, HasWindowHandle, RawWindowHandle,
        Win32WindowHandle, WindowHandle,
    };

    /// An HWND, which is a number and may cross to the dialog's thread.
    pub struct Owner(std::num::NonZeroIsize);

    impl Owner {
        /// The window with this HWND (`None` for 0).
        pub fn new(hwnd: isize) -> Option<Owner> {
            std::num::NonZeroIsize::new(hwnd).map(Owner)
        }
    }

    impl HasWindowHandle for Owner {
        #[expect(
            unsafe_code,
            reason = "raw-window-handle has no safe way to name a window by its HWND"
        )]
        fn window_handle(&self) -> Result<WindowHandle<'_>, HandleError> {
            let raw = RawWindowHandle::Win32(Win32WindowHandle::new(self.0));
            // SAFETY: the HWND is the main window's, which lives as long as the program's
            // window does; the dialog it owns is modal to it, so it cannot close first.
            Ok(unsafe { WindowHandle::borrow_raw(raw) })
        }
    }

    impl HasDisplayHandle for Owner {
        fn display_handle(&self) -> Result<DisplayHandle<'_>, HandleError> {
            Ok(DisplayHandle::windows())
        }
    }
}

/// True if this system may show a native dialog at all (on Linux: a D-Bus session for the
/// desktop portal, or zenity on PATH).
fn native_possible() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        return true;
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join("zenity").is_file()))
}

/// A request and who asked: a tab (by its id) or the window itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask {
    /// What file.
    pub request: FileRequest,
    /// The tab it is for (`None`: the window, e.g. opening a profile).
    pub tab: Option<u64>,
}

/// A file the user chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// What was asked.
    pub ask: Ask,
    /// The path.
    pub path: PathBuf,
}

/// The path prompt shown when no native dialog can be shown.
struct Prompt {
    ask: Ask,
    path: String,
    /// Why no dialog could be shown (said in the prompt, beside the field).
    why: String,
    /// The field takes the keyboard once, when the prompt opens.
    focus: bool,
}

/// The dialogs of the window: one at a time.
pub struct Dialogs {
    picker: std::sync::Arc<dyn FilePicker>,
    answers: Receiver<(Ask, Option<PathBuf>, Duration)>,
    send: Sender<(Ask, Option<PathBuf>, Duration)>,
    /// A native dialog is open (on its helper thread).
    waiting: Option<Ask>,
    prompt: Option<Prompt>,
    /// Where the last file was chosen (the prompt suggests it).
    last_dir: Option<PathBuf>,
    /// Why the last dialog fell back to the prompt, once, for the log.
    pub fell_back: Option<String>,
    /// The reason already said in the log: each prompt says it again itself, but the log (and
    /// every export of it) gets it once a run, not once a prompt.
    said: Option<String>,
}

impl Dialogs {
    /// Native dialogs belong to the window with this HWND (Windows; see
    /// [`FilePicker::set_owner`]).
    pub fn set_owner(&self, window: isize) {
        self.picker.set_owner(window);
    }

    /// Dialogs answered by `picker`.
    pub fn new(picker: std::sync::Arc<dyn FilePicker>) -> Self {
        let (send, answers) = channel();
        Self {
            picker,
            answers,
            send,
            waiting: None,
            prompt: None,
            last_dir: None,
            fell_back: None,
            said: None,
        }
    }

    /// True while a dialog or the prompt is open.
    pub fn busy(&self) -> bool {
        self.waiting.is_some() || self.prompt.is_some()
    }

    /// Asks for a file; the answer comes from [`answers`](Self::answers) in a later frame.
    /// Ignored while another dialog is open.
    pub fn ask(&mut self, ask: Ask, ctx: &egui::Context) {
        if self.busy() {
            return;
        }
        if self.picker.native() && !native_possible() {
            self.fall_back(ask, t(S::NoDialogAtAll).to_owned());
            return;
        }
        let (picker, send, repaint) = (
            std::sync::Arc::clone(&self.picker),
            self.send.clone(),
            ctx.clone(),
        );
        // The language is per thread: the dialog's title and file types are worded in the
        // window's (they were English in the 中文 window).
        let lang = super::i18n::lang();
        self.waiting = Some(ask.clone());
        let started = std::thread::Builder::new()
            .name("sockscope-dialog".into())
            .spawn(move || {
                super::i18n::set_lang(lang);
                let start = Instant::now();
                let path = picker.pick(&ask.request);
                let _ = send.send((ask, path, start.elapsed()));
                repaint.request_repaint();
            });
        if started.is_err()
            && let Some(ask) = self.waiting.take()
        {
            self.fall_back(ask, t(S::NoDialogAtAll).to_owned());
        }
    }

    fn fall_back(&mut self, ask: Ask, why: String) {
        let suggested = ask.request.suggested_name();
        let dir = self
            .last_dir
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        let path = if suggested.is_empty() {
            format!("{}{}", dir.display(), std::path::MAIN_SEPARATOR)
        } else {
            dir.join(suggested).display().to_string()
        };
        if self.said.as_ref() != Some(&why) {
            self.said = Some(why.clone());
            self.fell_back = Some(why.clone());
        }
        self.prompt = Some(Prompt {
            ask,
            path,
            why,
            focus: true,
        });
    }

    /// The files chosen since the last call (from the native dialog or the prompt).
    pub fn answers(&mut self) -> Vec<Answer> {
        let mut out = Vec::new();
        while let Ok((ask, path, took)) = self.answers.try_recv() {
            self.waiting = None;
            match path {
                Some(path) => {
                    self.remember(&path);
                    out.push(Answer { ask, path });
                }
                None if self.picker.native() && took < TOO_FAST => {
                    self.fall_back(ask, t(S::NoDialogShown).to_owned());
                }
                None => {}
            }
        }
        out
    }

    fn remember(&mut self, path: &Path) {
        self.last_dir = path.parent().map(Path::to_path_buf);
    }

    /// Draws the path prompt if it is open; returns the path typed when confirmed.
    pub fn prompt_ui(&mut self, ctx: &egui::Context) -> Option<Answer> {
        let prompt = self.prompt.as_mut()?;
        let mut done = None;
        let mut cancel = false;
        let modal = egui::Modal::new(egui::Id::unique("path_prompt")).show(ctx, |ui| {
            ui.set_width(460.0);
            ui.heading(prompt.ask.request.title());
            ui.label(t(S::TypePath));
            // Why, here beside the field rather than over the window's controls.
            ui.weak(&prompt.why);
            let label = ui.label(t(S::Path));
            let field = ui.add(
                egui::TextEdit::singleline(&mut prompt.path)
                    .desired_width(f32::INFINITY)
                    .font(egui::TextStyle::Monospace),
            );
            let field = field.labelled_by(label.id);
            super::testhook::tag(ui, &field, "prompt.path");
            if std::mem::take(&mut prompt.focus) {
                field.request_focus();
            }
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let path = prompt.path.trim();
            let usable = !path.is_empty() && !path.ends_with(std::path::MAIN_SEPARATOR);
            ui.horizontal(|ui| {
                let ok = ui.add_enabled(usable, egui::Button::new(t(S::Ok)));
                if (ok.clicked() || enter) && usable {
                    done = Some(PathBuf::from(path));
                }
                if ui.button(t(S::Cancel)).clicked() {
                    cancel = true;
                }
            });
        });
        if modal.should_close() {
            cancel = true;
        }
        if let Some(path) = done {
            let prompt = self.prompt.take()?;
            self.remember(&path);
            return Some(Answer {
                ask: prompt.ask,
                path,
            });
        }
        if cancel {
            self.prompt = None;
        }
        None
    }
}

/// The sentence said when the prompt stood in for a dialog.
pub fn fell_back_note(why: &str) -> String {
    tf(S::DialogFellBack, &[&why])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::i18n::{Lang, set_lang};

    #[test]
    fn an_export_is_offered_as_its_own_file_type_not_only_all_files() {
        set_lang(Lang::En);
        let csv = file_type(&FileRequest::Export(crate::capture::ExportFormat::Csv));
        assert_eq!(csv, Some(("CSV files".to_owned(), "csv".to_owned())));
        let pcap = file_type(&FileRequest::Export(crate::capture::ExportFormat::Pcap));
        assert_eq!(pcap.map(|(_, e)| e), Some("pcap".to_owned()));
        assert_eq!(
            file_type(&FileRequest::LoadReport(true)).map(|(_, e)| e),
            Some("json".to_owned())
        );
        // A file to read is not filtered by a type.
        assert_eq!(file_type(&FileRequest::SendFile), None);
        set_lang(Lang::Zh);
        let csv = file_type(&FileRequest::Export(crate::capture::ExportFormat::Csv));
        assert_eq!(csv.map(|(l, _)| l), Some("CSV 文件".to_owned()));
        set_lang(Lang::En);
    }

    /// A picker that notes the title and file-type words its dialog would show, as worded on
    /// the helper thread the native dialog runs on.
    #[derive(Default)]
    struct Noting(Mutex<Vec<(String, String)>>);

    impl FilePicker for Noting {
        fn pick(&self, request: &FileRequest) -> Option<PathBuf> {
            let words = (
                request.title().to_owned(),
                t(S::DialogProfileFilter).to_owned(),
            );
            self.0.lock().unwrap().push(words);
            Some(PathBuf::from("chosen.ron"))
        }
    }

    #[test]
    fn a_dialog_is_titled_in_the_window_s_language() {
        set_lang(Lang::Zh);
        let noting = Arc::new(Noting::default());
        let mut dialogs = Dialogs::new(Arc::clone(&noting) as Arc<dyn FilePicker>);
        let ctx = egui::Context::default();
        let ask = Ask {
            request: FileRequest::OpenProfile,
            tab: None,
        };
        dialogs.ask(ask, &ctx);
        let deadline = Instant::now() + Duration::from_secs(5);
        while dialogs.answers().is_empty() {
            assert!(Instant::now() < deadline, "the dialog never answered");
            std::thread::sleep(Duration::from_millis(5));
        }
        set_lang(Lang::En);
        let seen = noting.0.lock().unwrap().clone();
        assert_eq!(
            seen,
            vec![("打开配置".to_owned(), "SockScope 配置（RON）".to_owned())]
        );
    }
}
