//! The Compose window: a frame of the tab's protocol made from its fields. The user picks the
//! message (JT/T 808 `0x0200`, Modbus function 3, DL/T 645 read) and fills in a form the spec
//! gives; lengths, counts, checksums and escaping are computed by the core's encoder and
//! shown read-only. The bytes and their decoded summary show live; a field that is wrong says
//! so next to itself, and Send is refused with that sentence.

use std::collections::BTreeMap;
use std::sync::Arc;

use eframe::egui::{self, RichText};
use sockscope_core::protocol::{self, Decoded, Dir, Field, FieldValue, Kind, Message, Protocol};

use super::i18n::{S, t, tf};
use super::state::{ComposeFields, QuickCommand, TabUi, UiAction};
use super::widgets::error_color;
use crate::codec::hex;
use crate::codec::payload::{InputMode, SendSpec};

/// Preview shows at most this many bytes.
const PREVIEW_BYTES: usize = 256;

/// Lines of the preview shown before it scrolls.
const PREVIEW_LINES: f32 = 4.0;
/// Making the frame again with a wrong value left out ends after this many tries.
const TRIES: usize = 8;

/// What the Compose window holds between frames: the protocol picked here (when the tab
/// decodes with none), the message, its direction and what is typed in each field.
#[derive(Default)]
pub struct ComposeState {
    /// A built-in's name, picked here when the tab has no protocol.
    picked: String,
    /// The protocol and message the typed values are for.
    message: Option<(String, i64)>,
    /// The direction frames are made for.
    dir: Dir,
    /// What is typed, by field path (`body.lat`, `props.version`).
    pub texts: BTreeMap<String, String>,
    /// The quick command being changed here (its place and name), when it was opened from
    /// one: Save puts the frame back in it.
    pub editing: Option<(usize, String)>,
    /// The edited command's bytes when it was opened (hex), to tell a name made from its
    /// summary from one the user gave.
    editing_text: String,
    /// "Saved to 'NAME'", once Save to put the frame back.
    saved: Option<String>,
    /// The window was drawn at the last frame.
    shown: bool,
}

impl ComposeState {
    /// Opens quick command `n` (made in Compose) in the form: its protocol, message,
    /// direction and what was typed. False when it keeps no fields (made as bytes).
    pub fn open_command(&mut self, n: usize, command: &QuickCommand) -> bool {
        let Some(fields) = &command.fields else {
            return false;
        };
        self.picked.clone_from(&fields.protocol);
        self.message = fields.message.map(|key| (fields.protocol.clone(), key));
        self.dir = fields.dir;
        self.texts.clone_from(&fields.texts);
        self.editing = Some((n, command.name.clone()));
        self.editing_text.clone_from(&command.text);
        self.saved = None;
        true
    }
}

/// A frame made of the form's values.
pub struct Built {
    /// The frame, or why none can be made.
    pub bytes: Result<Vec<u8>, String>,
    /// A sentence next to each field whose value is wrong, by path.
    pub errors: BTreeMap<String, String>,
    /// The frame decoded (what the form shows).
    pub decoded: Option<Decoded>,
    /// The node of each field that takes a value (not computed), by path.
    pub editable: BTreeMap<String, protocol::NodeId>,
    /// The `key=value` fields (HJ 212's data segment), by path: typed key by key.
    pub kv: BTreeMap<String, protocol::NodeId>,
}

impl Built {
    /// The first wrong field's sentence, or why no frame can be made: why Send is refused.
    pub fn refusal(&self, protocol: &Protocol) -> Option<String> {
        if let Some((path, why)) = self.errors.iter().next() {
            let label = self.decoded.as_ref().and_then(|d| d.get(path)).map_or_else(
                || match path.rsplit_once('.') {
                    Some((_, "extra")) => t(S::ProtoExtra).to_owned(),
                    // A key of a key=value segment (HJ 212's CN), as the form names it (it
                    // said `data.CN`).
                    Some((parent, key)) if self.kv.contains_key(parent) => key.to_owned(),
                    _ => path.clone(),
                },
                |f| protocol.label(f),
            );
            // An item of a list is said by its number ("Value #2"; "Value" did not say which
            // register).
            let label = match path
                .split('.')
                .filter_map(|p| p.parse::<usize>().ok())
                .next_back()
            {
                Some(i) => format!("{label} #{}", i + 1),
                None => label,
            };
            return Some(tf(S::ComposeFieldError, &[&label, why]));
        }
        self.bytes.as_ref().err().cloned()
    }
}

/// A number as typed: decimal, or hex after `0x` (read by the core).
fn number(text: &str) -> Option<i128> {
    protocol::number_from_text(text)
}

/// True when the node is a switch over a region of a known length (DL/T 645's data, JT/T
/// 808's body): bytes after its layout's fields can be typed.
fn sized_switch(protocol: &Protocol, id: protocol::NodeId) -> bool {
    protocol
        .program
        .node(id)
        .is_some_and(|n| matches!(n.kind, Kind::Switch { len: Some(_), .. }))
}

/// True when the node's value is worked out, not typed: a length, a count, a checksum, a
/// constant or a computed field (and a number whose bit fields are typed instead).
fn computed(protocol: &Protocol, id: protocol::NodeId) -> bool {
    protocol.program.node(id).is_none_or(|n| {
        n.length_of.is_some()
            || n.count_of.is_some()
            || matches!(
                &n.kind,
                Kind::Checksum { .. }
                    | Kind::Const(_)
                    | Kind::Computed(_)
                    | Kind::Group { .. }
                    | Kind::Repeat { .. }
                    | Kind::Switch { .. }
                    | Kind::Csv { .. }
                    | Kind::Kv { .. }
            )
            || matches!(&n.kind, Kind::Int { bits, .. } if !bits.is_empty())
    })
}

/// What is typed at `path` read as its field's kind: None for a key of a key=value field
/// (read with its field, in the spec's order of keys), else the value or why it is wrong.
fn read_typed(
    protocol: &Protocol,
    kinds: &BTreeMap<String, protocol::NodeId>,
    kv: &BTreeMap<String, protocol::NodeId>,
    path: &str,
    text: &str,
) -> Option<Result<FieldValue, String>> {
    if kv.keys().any(|k| {
        path.strip_prefix(k.as_str())
            .is_some_and(|r| r.starts_with('.'))
    }) {
        return None;
    }
    if let Some(&id) = kinds.get(path) {
        return Some(protocol.value_from_text(id, text));
    }
    // The bytes a sized region holds after its fields (a DL/T 645 value longer than the
    // standard's), typed as hex.
    if let Some(region) = path.strip_suffix(".extra")
        && kinds
            .get(region)
            .is_some_and(|&id| sized_switch(protocol, id))
    {
        return Some(protocol::bytes_from_text(text).map(FieldValue::Bytes));
    }
    // A field not met yet (an item just added): taken as typed, so making the frame meets it
    // and says its kind.
    Some(Ok(number(text).map_or_else(
        || FieldValue::Text(text.to_owned()),
        FieldValue::Int,
    )))
}

/// Makes the frame of `message`'s values and what is typed: each typed value is read as its
/// field's kind (found by making the frame), a wrong one is left out (its field takes a blank)
/// and said next to its field.
pub fn build(
    protocol: &Protocol,
    message: &[(String, FieldValue)],
    texts: &BTreeMap<String, String>,
    dir: Dir,
) -> Built {
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let mut kinds: BTreeMap<String, protocol::NodeId> = BTreeMap::new();
    let mut composed = protocol.compose(message, dir);
    let mut kv: BTreeMap<String, protocol::NodeId> = BTreeMap::new();
    for _ in 0..TRIES {
        kinds.extend(composed.nodes.iter().cloned());
        kv.extend(
            kinds
                .iter()
                .filter(|(_, id)| {
                    protocol
                        .program
                        .node(**id)
                        .is_some_and(|n| matches!(n.kind, Kind::Kv { .. }))
                })
                .map(|(path, id)| (path.clone(), *id)),
        );
        let mut values: Vec<(String, FieldValue)> = message.to_vec();
        for (path, text) in texts {
            if let Some(blank) = errors
                .contains_key(path)
                .then(|| kinds.get(path).and_then(|id| protocol.blank_value(*id)))
            {
                if let Some(blank) = blank {
                    values.retain(|(p, _)| p != path);
                    values.push((path.clone(), blank));
                }
                continue;
            }
            match read_typed(protocol, &kinds, &kv, path, text) {
                None => {}
                Some(Ok(v)) => {
                    values.retain(|(p, _)| p != path);
                    values.push((path.clone(), v));
                }
                Some(Err(why)) => {
                    // A blank stands for it: the field, and the list item holding it, stay
                    // in the form (typing 70000 into a register removed it, and what was
                    // typed there).
                    if let Some(blank) = kinds.get(path).and_then(|id| protocol.blank_value(*id)) {
                        values.retain(|(p, _)| p != path);
                        values.push((path.clone(), blank));
                    }
                    errors.insert(path.clone(), why);
                }
            }
        }
        for (path, &id) in &kv {
            let (pairs, wrong) = protocol.kv_values(id, path, texts);
            values.extend(pairs);
            for (p, why) in wrong {
                errors.entry(p).or_insert(why);
            }
        }
        composed = protocol.compose(&values, dir);
        let more_known = texts
            .keys()
            .any(|p| !kinds.contains_key(p) && composed.nodes.iter().any(|(q, _)| q == p));
        match &composed.bytes {
            // A value the encoder refuses (a text longer than its field) is said there.
            Err(e) if texts.contains_key(&e.path) && !errors.contains_key(&e.path) => {
                errors.insert(e.path.clone(), e.message.clone());
            }
            _ if more_known => {}
            _ => break,
        }
    }
    let editable = composed
        .nodes
        .iter()
        .filter(|(_, id)| !computed(protocol, *id))
        .cloned()
        .collect();
    match composed.bytes {
        Ok(bytes) => {
            let decoded = protocol.decode(&bytes, dir);
            Built {
                bytes: Ok(bytes),
                errors,
                decoded: Some(decoded),
                editable,
                kv,
            }
        }
        Err(e) => Built {
            bytes: Err(tf(S::ComposeNoFrame, &[&e])),
            errors,
            decoded: None,
            editable,
            kv,
        },
    }
}

/// The protocol the window composes for: the tab's, else the one picked here.
fn protocol_of(tab: &TabUi<'_>, state: &ComposeState) -> Option<Arc<Protocol>> {
    match tab.form.protocol() {
        Ok(Some(p)) => Some(p),
        _ => protocol::builtin(&state.picked),
    }
}

/// The direction a tab's own frames go: the other way from what it receives.
fn sent_dir(tab: &TabUi<'_>) -> Dir {
    match super::protocol_pick::received(tab.form).map(|(_, dir)| dir) {
        Some(Dir::Request) => Dir::Response,
        _ => Dir::Request,
    }
}

/// The Compose window, when open.
pub fn compose_window_ui(
    ctx: &egui::Context,
    tab: &mut TabUi<'_>,
    state: &mut ComposeState,
    actions: &mut Vec<UiAction>,
) {
    if !tab.view.compose_open {
        // Closed (its X, the shortcut): the next opening is not an edit of the command.
        if std::mem::take(&mut state.shown) {
            state.editing = None;
        }
        return;
    }
    state.shown = true;
    let mut open = true;
    egui::Window::new(t(S::ComposeTitle))
        .id(egui::Id::unique("compose_window"))
        // As tall as the screen allows: a location report has some thirty fields.
        .pivot(egui::Align2::CENTER_TOP)
        .default_pos(ctx.content_rect().center_top() + egui::vec2(0.0, 40.0))
        .max_width(780.0)
        .constrain(true)
        .default_size([
            600.0,
            (ctx.content_rect().height() - 80.0).clamp(300.0, 1400.0),
        ])
        .open(&mut open)
        .collapsible(false)
        .resizable(true)
        .show(ctx, |ui| compose_ui(ui, tab, state, actions));
    if !open {
        tab.view.compose_open = false;
    }
}

#[expect(
    clippy::too_many_lines,
    reason = "the window top to bottom: protocol, message, form, preview, Send"
)]
fn compose_ui(
    ui: &mut egui::Ui,
    tab: &mut TabUi<'_>,
    state: &mut ComposeState,
    actions: &mut Vec<UiAction>,
) {
    let tab_has = matches!(tab.form.protocol(), Ok(Some(_)));
    if let Some((_, name)) = &state.editing {
        ui.label(RichText::new(tf(S::ComposeEditing, &[name])).strong());
    }
    ui.horizontal(|ui| {
        let label = ui.label(t(S::ComposeProtocol));
        if tab_has {
            if let Some(p) = protocol_of(tab, state) {
                ui.strong(p.title());
            }
        } else {
            // The sentence is said once, below; the list shows what is picked, or asks.
            let shown = protocol::builtin(&state.picked)
                .map_or_else(|| t(S::ComposeChoose).to_owned(), |p| p.title().to_owned());
            egui::ComboBox::from_id_salt("compose_protocol")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for p in protocol::builtins() {
                        ui.selectable_value(&mut state.picked, p.name().to_owned(), p.title());
                    }
                })
                .response
                .labelled_by(label.id);
        }
    });
    let Some(protocol) = protocol_of(tab, state) else {
        ui.label(t(S::ComposePickProtocol));
        return;
    };
    let messages = protocol.messages();
    let chosen = state
        .message
        .as_ref()
        .filter(|(name, _)| name == protocol.name())
        .and_then(|(_, key)| messages.iter().find(|m| m.key == *key));
    let mut pick: Option<&Message> = None;
    if messages.is_empty() {
        ui.weak(t(S::ComposeNoMessages));
    } else {
        ui.horizontal(|ui| {
            let label = ui.label(t(S::ComposeMessage));
            let shown = chosen.map_or_else(String::new, |m| m.label.clone());
            egui::ComboBox::from_id_salt("compose_message")
                .selected_text(shown)
                .width(360.0)
                .height(400.0)
                .show_ui(ui, |ui| {
                    for m in &messages {
                        let dir = match m.dir {
                            Dir::Response => format!("  ({})", t(S::ComposeReply)),
                            _ => String::new(),
                        };
                        let on = chosen.is_some_and(|c| c.key == m.key);
                        if ui
                            .selectable_label(on, format!("{}{dir}", m.label))
                            .clicked()
                        {
                            pick = Some(m);
                        }
                    }
                })
                .response
                .labelled_by(label.id);
        });
    }
    // A new message (or the first, or another protocol) starts a fresh form.
    let first = messages.first().filter(|_| chosen.is_none());
    if let Some(m) = pick.or(first) {
        // Another message of the same protocol keeps what was typed for the fields they share
        // (a JT/T 808 terminal's phone and serial went back to zeros), not the values that
        // choose the message.
        let same_protocol = state
            .message
            .as_ref()
            .is_some_and(|(name, _)| name == protocol.name());
        if same_protocol {
            state
                .texts
                .retain(|path, _| !m.values.iter().any(|(chosen, _)| chosen == path));
        } else {
            state.texts.clear();
        }
        state.message = Some((protocol.name().to_owned(), m.key));
        // A message read only as a reply (Modbus's) is made as one; others go the way the
        // tab's own frames go.
        state.dir = if m.dir == Dir::Response {
            Dir::Response
        } else {
            sent_dir(tab)
        };
    }
    let message: Vec<(String, FieldValue)> = messages
        .iter()
        .find(|m| state.message.as_ref().is_some_and(|(_, k)| *k == m.key))
        .map(|m| m.values.clone())
        .unwrap_or_default();
    let built = build(&protocol, &message, &state.texts, state.dir);
    // The direction only where the protocol reads the frame differently each way (Modbus's
    // request and reply of one function); for HJ 212, NMEA, JT/T 808 it meant nothing.
    let both_ways = built.bytes.as_ref().map_or(true, |bytes| {
        protocol.decode(bytes, Dir::Request) != protocol.decode(bytes, Dir::Response)
    });
    if both_ways {
        ui.horizontal(|ui| {
            ui.label(t(S::ComposeDirection));
            ui.selectable_value(&mut state.dir, Dir::Request, t(S::ComposeRequest));
            ui.selectable_value(&mut state.dir, Dir::Response, t(S::ComposeReply));
        });
    }
    ui.separator();
    // Room below the form: the preview (up to PREVIEW_LINES lines, scrolled beyond), its
    // summary, the buttons.
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let footer = 86.0 + ui.fonts_mut(|f| f.row_height(&font)) * PREVIEW_LINES;
    egui::ScrollArea::vertical()
        .id_salt("compose_form")
        .max_height((ui.available_height() - footer).max(120.0))
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if let Some(decoded) = &built.decoded {
                egui::Grid::new("compose_fields")
                    .num_columns(2)
                    .striped(true)
                    .show(ui, |ui| {
                        for f in &decoded.fields {
                            field_ui(ui, &protocol, f, "", 0, &built, state);
                        }
                    });
            }
        });
    ui.separator();
    preview_ui(ui, &protocol, &built, state.dir);
    let refusal = built.refusal(&protocol);
    ui.horizontal(|ui| {
        let action = super::actions::Action::Send;
        let send = ui
            .add_enabled(
                refusal.is_none() && tab.can_send(),
                egui::Button::new(RichText::new(action.label()).strong()),
            )
            .on_disabled_hover_text(match (&refusal, tab.send_target()) {
                (Some(why), _) => tf(S::ComposeRefused, &[why]),
                (None, Err(why)) => why.to_string(),
                (None, Ok(_)) => String::new(),
            });
        super::testhook::tag(ui, &send, "compose.send");
        let name = quick_name(&protocol, built.decoded.as_ref());
        if let Ok(bytes) = &built.bytes
            && refusal.is_none()
        {
            let mut command = hex_command(name, bytes);
            if send.clicked() {
                actions.push(UiAction::SendComposed(command.clone()));
            }
            // What it was made from goes with it, so it opens here again.
            command.fields = Some(ComposeFields {
                protocol: protocol.name().to_owned(),
                message: state.message.as_ref().map(|(_, key)| *key),
                dir: state.dir,
                texts: state.texts.clone(),
            });
            let keep = ui
                .button(t(S::ComposeSaveQuick))
                .on_hover_text(t(S::TipComposeSaveQuick));
            super::testhook::tag(ui, &keep, "compose.keep");
            if keep.clicked() {
                actions.push(UiAction::KeepQuick(command.clone()));
            }
            if let Some((n, name)) = state.editing.clone() {
                let update = ui
                    .button(tf(S::ComposeUpdateQuick, &[&name]))
                    .on_hover_text(t(S::TipComposeUpdateQuick));
                super::testhook::tag(ui, &update, "compose.update");
                if update.clicked() {
                    // A name made from the old frame's summary follows the new frame; one the
                    // user gave stays (the button and the list kept the old MN).
                    let old = hex::parse(&state.editing_text).ok().map(|bytes| {
                        quick_name(&protocol, Some(&protocol.decode(&bytes, state.dir)))
                    });
                    let mut command = command;
                    if old.as_deref() != Some(name.as_str()) {
                        command.name.clone_from(&name);
                    }
                    state.editing = Some((n, command.name.clone()));
                    state.editing_text.clone_from(&command.text);
                    state.saved = Some(command.name.clone());
                    actions.push(UiAction::RecomposeQuick(n, command));
                }
                if let Some(saved) = &state.saved {
                    ui.weak(tf(S::ComposeSavedTo, &[saved]));
                }
            }
        }
    });
    if let Some(why) = refusal {
        ui.label(RichText::new(tf(S::ComposeRefused, &[&why])).color(error_color(ui)));
    }
}

/// A quick command's name for a composed frame: its summary, short.
fn quick_name(protocol: &Protocol, decoded: Option<&Decoded>) -> String {
    let summary = decoded.map_or_else(String::new, |d| protocol.summary(d));
    summary.chars().take(48).collect()
}

/// The composed bytes as a quick command (hex, nothing added).
fn hex_command(name: String, bytes: &[u8]) -> QuickCommand {
    QuickCommand {
        name,
        text: hex::format(bytes),
        spec: SendSpec {
            mode: InputMode::Hex,
            ..SendSpec::default()
        },
        delay_ms: 0,
        fields: None,
    }
}

fn preview_ui(ui: &mut egui::Ui, protocol: &Protocol, built: &Built, dir: Dir) {
    match &built.bytes {
        Ok(bytes) => {
            let shown = bytes.get(..PREVIEW_BYTES).unwrap_or(bytes);
            let more = if bytes.len() > shown.len() {
                " …"
            } else {
                ""
            };
            // With a field in error the bytes are a draft (that field taken as 0), not what
            // Send would send (Send is refused): said so.
            let key = if built.errors.is_empty() {
                S::ComposePreview
            } else {
                S::ComposePreviewDraft
            };
            let text = tf(key, &[&bytes.len(), &hex::format(shown), &more]);
            let font = egui::TextStyle::Monospace.resolve(ui.style());
            let line = ui.fonts_mut(|f| f.row_height(&font));
            let preview = egui::ScrollArea::vertical()
                .id_salt("compose_preview")
                .max_height(line * PREVIEW_LINES)
                .show(ui, |ui| {
                    // A text protocol's frame (HJ 212, NMEA) first as the text it is.
                    if let Some(as_text) = printable(shown) {
                        ui.add(
                            egui::Label::new(
                                RichText::new(format!("“{as_text}”{more}")).monospace(),
                            )
                            .wrap_mode(egui::TextWrapMode::Wrap),
                        );
                    }
                    ui.add(
                        egui::Label::new(RichText::new(&text).monospace())
                            .wrap_mode(egui::TextWrapMode::Wrap),
                    )
                })
                .inner;
            super::testhook::tag(ui, &preview, "compose.preview");
            super::testhook::value(ui.ctx(), "compose.bytes", hex::format(bytes));
            let decoded = protocol.decode(bytes, dir);
            ui.weak(format!("≡ {}", protocol.summary(&decoded)));
        }
        Err(why) => {
            ui.label(RichText::new(why).color(error_color(ui)));
        }
    }
}

/// Bytes that are printable ASCII text but for a line end (a text protocol's frame), with
/// CR and LF written as `\r` and `\n`; `None` for binary bytes.
fn printable(bytes: &[u8]) -> Option<String> {
    let text = bytes
        .iter()
        .all(|b| matches!(b, 0x20..=0x7E | b'\r' | b'\n'));
    (text && !bytes.is_empty()).then(|| {
        bytes
            .iter()
            .map(|b| match b {
                b'\r' => "\\r".to_owned(),
                b'\n' => "\\n".to_owned(),
                _ => char::from(*b).to_string(),
            })
            .collect()
    })
}

/// One field of the form (and those under it): its name, and a text field for what is
/// typed, or its value marked computed.
fn field_ui(
    ui: &mut egui::Ui,
    protocol: &Protocol,
    field: &Field,
    prefix: &str,
    depth: usize,
    built: &Built,
    state: &mut ComposeState,
) {
    let path = if prefix.is_empty() {
        field.name.to_string()
    } else {
        format!("{prefix}.{}", field.name)
    };
    let label = ui
        .horizontal(|ui| {
            ui.add_space(14.0 * depth as f32);
            ui.label(protocol.label(field))
        })
        .inner;
    label.clone().on_hover_text(&path);
    if let Some(&id) = built.kv.get(&path) {
        // Typed key by key (the segment's pairs below are what it makes).
        ui.end_row();
        kv_rows_ui(ui, protocol, id, &path, depth + 1, built, state);
        return;
    }
    match built.editable.get(&path) {
        Some(&id) => {
            // Wrapped within a width: JT/T 808's alarm word names 32 flags.
            ui.vertical(|ui| {
                ui.set_max_width(480.0);
                ui.horizontal_wrapped(|ui| {
                    value_ui(ui, protocol, field, &path, id, &label, built, state);
                });
            });
        }
        None => {
            ui.horizontal(|ui| {
                // A region's value (a body as hex) is long: shortened, whole on hover, so the
                // window does not grow past the screen.
                let shown = protocol.shown(field);
                let short: String = shown.chars().take(40).collect();
                let more = if short.len() < shown.len() { "…" } else { "" };
                ui.label(RichText::new(format!("{short}{more}")).monospace())
                    .on_hover_text(shown);
                if !matches!(field.value, FieldValue::None) {
                    ui.weak(t(S::ComposeComputed))
                        .on_hover_text(t(S::TipComposeComputed));
                }
                repeat_buttons_ui(ui, protocol, field, &path, state);
            });
        }
    }
    ui.end_row();
    for c in &field.children {
        // Bytes after a region's fields are typed in the row below.
        if c.role == protocol::Role::Extra
            && field.node.is_some_and(|id| sized_switch(protocol, id))
        {
            continue;
        }
        field_ui(ui, protocol, c, &path, depth + 1, built, state);
    }
    // Unless the layout has a field of that name (DL/T 645's read request: blocks / time).
    let extra = format!("{path}.extra");
    if field.node.is_some_and(|id| sized_switch(protocol, id))
        && !built.editable.contains_key(&extra)
    {
        extra_row_ui(ui, &extra, depth + 1, built, state);
    }
}

/// The bytes a sized region holds after its fields, typed as hex (a meter's value longer
/// than the standard's: DL/T 645's 0x91 with four value bytes where the voltage has two).
fn extra_row_ui(
    ui: &mut egui::Ui,
    path: &str,
    depth: usize,
    built: &Built,
    state: &mut ComposeState,
) {
    let label = ui
        .horizontal(|ui| {
            ui.add_space(14.0 * depth as f32);
            ui.label(t(S::ProtoExtra))
        })
        .inner;
    label.clone().on_hover_text(path);
    ui.horizontal_wrapped(|ui| {
        ui.set_max_width(480.0);
        let mut text = state.texts.get(path).cloned().unwrap_or_default();
        let edit = ui
            .add(
                egui::TextEdit::singleline(&mut text)
                    .desired_width(260.0)
                    .font(egui::TextStyle::Monospace),
            )
            .labelled_by(label.id)
            .on_hover_text(t(S::TipComposeExtra));
        super::testhook::tag(ui, &edit, &format!("compose.field.{path}"));
        if edit.changed() {
            state.texts.insert(path.to_owned(), text);
        }
        if let Some(why) = built.errors.get(path) {
            ui.label(RichText::new(why).color(error_color(ui)));
        }
    });
    ui.end_row();
}

/// The value of a field that takes one: a text field (with a list of the names an enum
/// gives, checkboxes for a one-bit field), and what is wrong with it beside.
#[expect(clippy::too_many_arguments, reason = "one field's whole context")]
fn value_ui(
    ui: &mut egui::Ui,
    protocol: &Protocol,
    field: &Field,
    path: &str,
    id: protocol::NodeId,
    label: &egui::Response,
    built: &Built,
    state: &mut ComposeState,
) {
    let Some(node) = protocol.program.node(id) else {
        return;
    };
    let hex_look = node.look.show == protocol::Show::Hex;
    let current = state
        .texts
        .get(path)
        .cloned()
        .unwrap_or_else(|| protocol.value_to_text(id, &field.value));
    let one_bit = matches!(node.kind, Kind::Bits { width: 1, .. }) && node.look.values.is_none();
    if one_bit {
        let mut on = number(&current).is_some_and(|n| n != 0);
        let check = ui.checkbox(&mut on, "").labelled_by(label.id);
        if check.changed() {
            state
                .texts
                .insert(path.to_owned(), if on { "1" } else { "0" }.to_owned());
        }
    } else {
        let mut text = current.clone();
        let width = match node.kind {
            Kind::Str(..) | Kind::Bytes(_) => 260.0,
            _ => 160.0,
        };
        let edit = ui.add(
            egui::TextEdit::singleline(&mut text)
                .desired_width(width)
                .font(egui::TextStyle::Monospace),
        );
        let edit = edit.labelled_by(label.id);
        super::testhook::tag(ui, &edit, &format!("compose.field.{path}"));
        if edit.changed() {
            state.texts.insert(path.to_owned(), text);
        }
        if let Some(items) = node
            .look
            .values
            .and_then(|e| protocol.program.enums.get(e as usize))
        {
            let shown = protocol.shown(field);
            egui::ComboBox::from_id_salt(("compose_enum", path))
                .selected_text(shown)
                .width(200.0)
                .show_ui(ui, |ui| {
                    for item in items {
                        let name = enum_name(&item.1, &item.2);
                        // A number (in hex where the field shows hex), or a text (NMEA's N/S).
                        let typed = match &item.0 {
                            protocol::Key::Int(k) if hex_look => format!("0x{k:X}"),
                            protocol::Key::Int(k) => k.to_string(),
                            protocol::Key::Text(text) => text.clone(),
                        };
                        if ui
                            .selectable_label(false, format!("{typed} {name}"))
                            .clicked()
                        {
                            state.texts.insert(path.to_owned(), typed);
                        }
                    }
                })
                .response
                .labelled_by(label.id);
        }
        for flag in &node.look.flags {
            let bit = u32::from(flag.bit);
            let n = number(&current).unwrap_or(0);
            let mut on = n >> bit & 1 == 1;
            let name = if crate::i18n::lang() == crate::i18n::Lang::Zh && !flag.zh.is_empty() {
                &flag.zh
            } else {
                &flag.en
            };
            if ui.checkbox(&mut on, name.as_str()).changed() {
                let n = if on { n | 1 << bit } else { n & !(1 << bit) };
                state.texts.insert(
                    path.to_owned(),
                    if hex_look {
                        format!("0x{n:X}")
                    } else {
                        n.to_string()
                    },
                );
            }
        }
    }
    if let Some(why) = built.errors.get(path) {
        ui.label(RichText::new(why).color(error_color(ui)));
    }
}

/// A row for each key of a `key=value` field (HJ 212's QN, ST, CN, PW, MN, Flag, CP): a text
/// field, a list of the names a key's codes have, and what is wrong beside.
fn kv_rows_ui(
    ui: &mut egui::Ui,
    protocol: &Protocol,
    id: protocol::NodeId,
    path: &str,
    depth: usize,
    built: &Built,
    state: &mut ComposeState,
) {
    let keys = protocol.form_keys(id);
    // `KEY=` padded to the longest key, so the text fields line up.
    let pad = keys
        .iter()
        .map(|k| k.key.chars().count())
        .max()
        .unwrap_or(0)
        + 1;
    for key in keys {
        let key_path = format!("{path}.{}", key.key);
        let label = ui
            .horizontal(|ui| {
                ui.add_space(14.0 * depth as f32);
                ui.label(&key.name)
            })
            .inner;
        label.clone().on_hover_text(&key.key);
        // Wrapped within a width, as a number's flags are (a row taller than one line pushed
        // its second line over the next row when wrapped without this).
        ui.vertical(|ui| {
            ui.set_max_width(560.0);
            ui.horizontal_wrapped(|ui| {
                ui.monospace(format!("{:<pad$}", format!("{}=", key.key)));
                let mut text = state.texts.get(&key_path).cloned().unwrap_or_default();
                // A data segment (CP) holds many pairs: as wide as the row allows.
                let width = if key.nested.is_some() { 480.0 } else { 200.0 };
                let edit = ui
                    .add(
                        egui::TextEdit::singleline(&mut text)
                            .desired_width(width)
                            .font(egui::TextStyle::Monospace),
                    )
                    .labelled_by(label.id);
                let edit = match &key.nested {
                    Some((sep, groups)) => {
                        let example = format!("a=1{sep}b=2{groups}c=3");
                        edit.on_hover_text(tf(S::TipComposeNested, &[sep, groups, &example]))
                    }
                    None => edit.on_hover_text(t(S::TipComposeKvKey)),
                };
                super::testhook::tag(ui, &edit, &format!("compose.field.{key_path}"));
                if edit.changed() {
                    state.texts.insert(key_path.clone(), text.clone());
                }
                if let Some(items) = key
                    .values
                    .and_then(|e| protocol.program.enums.get(e as usize))
                {
                    let shown = items
                    .iter()
                    .find(|i| matches!(&i.0, protocol::Key::Int(k) if k.to_string() == text.trim()))
                    .map_or_else(String::new, |i| enum_name(&i.1, &i.2).to_owned());
                    egui::ComboBox::from_id_salt(("compose_kv_enum", &key_path))
                        .selected_text(shown)
                        .width(200.0)
                        .show_ui(ui, |ui| {
                            for item in items {
                                let protocol::Key::Int(k) = item.0 else {
                                    continue;
                                };
                                let name = enum_name(&item.1, &item.2);
                                if ui.selectable_label(false, format!("{k} {name}")).clicked() {
                                    state.texts.insert(key_path.clone(), k.to_string());
                                }
                            }
                        })
                        .response
                        .labelled_by(label.id);
                }
                // Named bits as checkboxes (HJ 212's Flag), the number kept in the field.
                for (bit, name) in &key.flags {
                    let n = number(&text).unwrap_or(0);
                    let mut on = n >> bit & 1 == 1;
                    if ui.checkbox(&mut on, name.as_str()).changed() {
                        let n = if on { n | 1 << bit } else { n & !(1 << bit) };
                        state.texts.insert(key_path.clone(), n.to_string());
                    }
                }
                if let Some(why) = built.errors.get(&key_path) {
                    ui.label(RichText::new(why).color(error_color(ui)));
                }
            });
        });
        ui.end_row();
    }
}

/// An enum item's name in the window's language.
fn enum_name<'a>(en: &'a str, zh: &'a str) -> &'a str {
    if crate::i18n::lang() == crate::i18n::Lang::Zh && !zh.is_empty() {
        zh
    } else {
        en
    }
}

/// `+ Item` on a list whose items are typed, `Remove` on one of its items.
fn repeat_buttons_ui(
    ui: &mut egui::Ui,
    protocol: &Protocol,
    field: &Field,
    path: &str,
    state: &mut ComposeState,
) {
    if let protocol::Role::Item(n) = field.role {
        if let Some((list, _)) = path.rsplit_once('.')
            && ui.small_button(t(S::ComposeRemoveItem)).clicked()
        {
            remove_item(state, list, n);
        }
        return;
    }
    let Some(node) = field.node.and_then(|id| protocol.program.node(id)) else {
        return;
    };
    let Kind::Repeat { children, .. } = &node.kind else {
        return;
    };
    let Some(first) = children.first().and_then(|&c| protocol.program.node(c)) else {
        return;
    };
    let add = ui
        .small_button(t(S::ComposeAddItem))
        .on_hover_text(t(S::TipComposeAddItem));
    super::testhook::tag(ui, &add, &format!("compose.add.{path}"));
    if add.clicked() {
        let n = field.children.len();
        state
            .texts
            .insert(format!("{path}.{n}.{}", first.name), "0".to_owned());
    }
}

/// Takes item `n` out of the list at `list`, the items after it moving up.
fn remove_item(state: &mut ComposeState, list: &str, n: usize) {
    let head = format!("{list}.");
    let mut kept = BTreeMap::new();
    for (path, text) in std::mem::take(&mut state.texts) {
        let Some(rest) = path.strip_prefix(&head) else {
            kept.insert(path, text);
            continue;
        };
        let (index, tail) = rest.split_once('.').unwrap_or((rest, ""));
        match index.parse::<usize>() {
            Ok(i) if i == n => {}
            Ok(i) if i > n => {
                kept.insert(format!("{head}{}.{tail}", i - 1), text);
            }
            _ => {
                kept.insert(path, text);
            }
        }
    }
    state.texts = kept;
}
