//! The action table: every command of the window with its label, tooltip and shortcut. Menus,
//! buttons, key handling and UI tests all read it, so a shortcut shown is a shortcut that works.

use eframe::egui::{self, Key, KeyboardShortcut, ModifierNames, Modifiers};

use super::i18n::{S, t};
use super::state::UiAction;

/// A command of the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send the send box (tab).
    Send,
    /// Empty the log (tab).
    ClearLog,
    /// Open or close the search bar (tab).
    Find,
    /// Open a profile in a tab.
    OpenProfile,
    /// Save the tab to its profile file.
    SaveProfile,
    /// Save the tab to a new profile file.
    SaveProfileAs,
    /// Open a new tab with the current tab's settings.
    NewTab,
    /// Open a new tab with the default settings.
    NewEmptyTab,
    /// Close the current tab.
    CloseTab,
    /// Bring back the last tab closed, with its log.
    ReopenTab,
    /// Close the window.
    Quit,
    /// Show this machine's interfaces.
    Interfaces,
    /// Open the address inspector.
    Inspector,
    /// Open the tab's auto-reply rules (tab).
    Rules,
    /// Open the tab's scripts (tab).
    Scripts,
    /// Open or close the tab's Plot window (tab).
    Plot,
    /// Open the load generator.
    Load,
    /// Open or close the Compose window (tab).
    Compose,
    /// Show the version, licence and where SockScope comes from.
    About,
}

const fn ctrl(key: Key) -> KeyboardShortcut {
    KeyboardShortcut::new(Modifiers::COMMAND, key)
}

impl Action {
    /// Every action, in menu order.
    pub const ALL: [Action; 19] = [
        Action::Send,
        Action::ClearLog,
        Action::Find,
        Action::OpenProfile,
        Action::SaveProfile,
        Action::SaveProfileAs,
        Action::NewTab,
        Action::NewEmptyTab,
        Action::CloseTab,
        Action::ReopenTab,
        Action::Quit,
        Action::Interfaces,
        Action::Inspector,
        Action::Rules,
        Action::Scripts,
        Action::Plot,
        Action::Load,
        Action::Compose,
        Action::About,
    ];

    fn texts(self) -> (S, S) {
        match self {
            Action::Send => (S::ActionSend, S::TipActionSend),
            Action::ClearLog => (S::ActionClear, S::TipActionClear),
            Action::Find => (S::ActionFind, S::TipActionFind),
            Action::OpenProfile => (S::ActionOpen, S::TipActionOpen),
            Action::SaveProfile => (S::ActionSave, S::TipActionSave),
            Action::SaveProfileAs => (S::ActionSaveAs, S::TipActionSaveAs),
            Action::NewTab => (S::ActionNewTab, S::TipActionNewTab),
            Action::NewEmptyTab => (S::ActionNewEmptyTab, S::TipActionNewEmptyTab),
            Action::CloseTab => (S::ActionCloseTab, S::TipActionCloseTab),
            Action::ReopenTab => (S::ActionReopenTab, S::TipActionReopenTab),
            Action::Quit => (S::ActionQuit, S::TipActionQuit),
            Action::Interfaces => (S::ActionInterfaces, S::TipActionInterfaces),
            Action::Inspector => (S::ActionInspector, S::TipActionInspector),
            Action::Rules => (S::ActionRules, S::TipEditRules),
            Action::Scripts => (S::ActionScripts, S::TipEditScripts),
            Action::Plot => (S::ActionPlot, S::TipActionPlot),
            Action::Load => (S::ActionLoad, S::TipActionLoad),
            Action::Compose => (S::ActionCompose, S::TipActionCompose),
            Action::About => (S::ActionAbout, S::TipActionAbout),
        }
    }

    /// The label, in the current language.
    pub fn label(self) -> &'static str {
        t(self.texts().0)
    }

    /// The keyboard shortcut (Cmd instead of Ctrl on macOS).
    pub fn shortcut(self) -> Option<KeyboardShortcut> {
        match self {
            Action::Send => Some(ctrl(Key::Enter)),
            Action::ClearLog => Some(ctrl(Key::L)),
            Action::Find => Some(ctrl(Key::F)),
            Action::OpenProfile => Some(ctrl(Key::O)),
            Action::SaveProfile => Some(ctrl(Key::S)),
            Action::SaveProfileAs => Some(KeyboardShortcut::new(
                Modifiers::COMMAND.plus(Modifiers::SHIFT),
                Key::S,
            )),
            Action::NewTab => Some(ctrl(Key::T)),
            Action::CloseTab => Some(ctrl(Key::W)),
            Action::ReopenTab => Some(KeyboardShortcut::new(
                Modifiers::COMMAND.plus(Modifiers::SHIFT),
                Key::T,
            )),
            Action::Quit => Some(ctrl(Key::Q)),
            Action::Rules => Some(ctrl(Key::R)),
            // M for message: beside Ctrl+Enter (Send) and Ctrl+R (Rules), free elsewhere.
            Action::Compose => Some(ctrl(Key::M)),
            Action::Scripts => Some(KeyboardShortcut::new(
                Modifiers::COMMAND.plus(Modifiers::SHIFT),
                Key::R,
            )),
            Action::Load => Some(KeyboardShortcut::new(
                Modifiers::COMMAND.plus(Modifiers::SHIFT),
                Key::L,
            )),
            Action::Plot => Some(KeyboardShortcut::new(
                Modifiers::COMMAND.plus(Modifiers::SHIFT),
                Key::P,
            )),
            Action::NewEmptyTab | Action::Interfaces | Action::Inspector | Action::About => None,
        }
    }

    /// The shortcut as this OS writes it ("Ctrl+S", "⌘S"), or nothing.
    pub fn shortcut_text(self) -> String {
        let mac = cfg!(target_os = "macos");
        let names = if mac {
            ModifierNames::SYMBOLS
        } else {
            ModifierNames::NAMES
        };
        self.shortcut()
            .map(|s| s.format(&names, mac))
            .unwrap_or_default()
    }

    /// The tooltip: what it does, and its shortcut.
    pub fn tooltip(self) -> String {
        let tip = t(self.texts().1);
        match self.shortcut_text() {
            shortcut if shortcut.is_empty() => tip.to_owned(),
            shortcut => format!("{tip} ({shortcut})"),
        }
    }

    /// What it does to the current tab, for the actions that belong to a tab.
    pub fn tab_action(self) -> Option<UiAction> {
        match self {
            Action::Send => Some(UiAction::Send),
            Action::ClearLog => Some(UiAction::ClearLog),
            Action::Find => Some(UiAction::ToggleSearch),
            Action::Rules => Some(UiAction::ShowRules),
            Action::Scripts => Some(UiAction::ShowScripts),
            Action::Plot => Some(UiAction::Plot(super::plot_ui::PlotAction::Toggle)),
            Action::Compose => Some(UiAction::ShowCompose),
            _ => None,
        }
    }

    /// A button for a tab action.
    pub fn button_ui(self, ui: &mut egui::Ui, actions: &mut Vec<UiAction>) {
        if ui
            .button(self.label())
            .on_hover_text(self.tooltip())
            .clicked()
            && let Some(action) = self.tab_action()
        {
            actions.push(action);
        }
    }

    /// A menu entry showing the shortcut; true when clicked (the menu closes).
    pub fn menu_item_ui(self, ui: &mut egui::Ui) -> bool {
        let mut button = egui::Button::new(self.label());
        if self.shortcut().is_some() {
            button = button.shortcut_text(self.shortcut_text());
        }
        let clicked = ui.add(button).on_hover_text(t(self.texts().1)).clicked();
        if clicked {
            ui.close();
        }
        clicked
    }

    /// The actions whose shortcut was pressed this frame (consumed, so a text field does not
    /// also see them). Longer shortcuts first: Ctrl+Shift+S is not also Ctrl+S.
    pub fn pressed(ctx: &egui::Context) -> Vec<Action> {
        let mut by_length: Vec<(Action, KeyboardShortcut)> = Action::ALL
            .iter()
            .filter_map(|a| a.shortcut().map(|s| (*a, s)))
            .collect();
        by_length.sort_by_key(|(_, s)| std::cmp::Reverse(s.modifiers.shift));
        ctx.input_mut(|input| {
            by_length
                .into_iter()
                .filter(|(_, shortcut)| input.consume_shortcut(shortcut))
                .map(|(action, _)| action)
                .collect()
        })
    }
}

/// Ctrl+1 … Ctrl+9: the tab number pressed this frame (0-based), if any.
pub fn tab_number_pressed(ctx: &egui::Context) -> Option<usize> {
    const KEYS: [Key; 9] = [
        Key::Num1,
        Key::Num2,
        Key::Num3,
        Key::Num4,
        Key::Num5,
        Key::Num6,
        Key::Num7,
        Key::Num8,
        Key::Num9,
    ];
    ctx.input_mut(|input| {
        KEYS.iter()
            .position(|key| input.consume_key(Modifiers::COMMAND, *key))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_actions_share_a_shortcut() {
        let shortcuts: Vec<_> = Action::ALL.iter().filter_map(|a| a.shortcut()).collect();
        for (i, a) in shortcuts.iter().enumerate() {
            assert!(!shortcuts[i + 1..].contains(a), "{a:?} used twice");
        }
    }

    #[test]
    fn tooltips_name_the_shortcut() {
        if !cfg!(target_os = "macos") {
            assert!(Action::SaveProfile.tooltip().ends_with("(Ctrl+S)"));
            assert!(Action::SaveProfileAs.tooltip().ends_with("(Ctrl+Shift+S)"));
        }
        assert!(!Action::Inspector.tooltip().contains('('));
    }
}
