//! A condition as rows a user edits, for the Rules window's When and a script's Expect: its
//! kind, then the kind's fields; all / any / not hold their conditions as indented rows of
//! the same kind, masks and checksums have fields of their own. Switching the kind carries
//! over what was typed where it means the same (core: `Cond::switch_to`).

use eframe::egui::{self, Color32, RichText};
use sockscope_core::codec::TextEncoding;
use sockscope_core::codec::hex;
use sockscope_core::codec::payload::InputMode;
use sockscope_core::i18n::{S, t, tf};
use sockscope_core::rules::{Compare, Cond, CondKind, Match, ReplySpec};

/// What every row of one condition editor shares.
pub struct CondCx {
    /// The label the fields are read by ("When", "Expect").
    pub label: egui::Id,
    /// The session's encoding (text ↔ bytes when the kind changes).
    pub encoding: TextEncoding,
}

const MATCHES: [(Match, S); 4] = [
    (Match::Exact, S::MatchExact),
    (Match::Contains, S::MatchContains),
    (Match::Prefix, S::MatchPrefix),
    (Match::Suffix, S::MatchSuffix),
];

const INT_TYPES: [&str; 14] = [
    "u8", "i8", "u16be", "u16le", "i16be", "i16le", "u32be", "u32le", "i32be", "i32le", "u64be",
    "u64le", "i64be", "i64le",
];

/// Most levels of all / any / not the rows show (deeper ones are edited as text).
const MAX_ROWS_DEPTH: usize = 8;

/// One condition: its kind, then its fields; true if it changed.
pub fn cond_ui(ui: &mut egui::Ui, cond: &mut Cond, cx: &CondCx, depth: usize) -> bool {
    let mut changed = false;
    // A condition's own mistake (not a group's): its fields get a red border and the
    // sentence goes under its row, where the user looks.
    let group = matches!(cond, Cond::All(_) | Cond::Any(_) | Cond::Not(_));
    let mistake = if group {
        None
    } else {
        cond.compile(cx.encoding).err()
    };
    ui.horizontal_wrapped(|ui| {
        let kind = cond.kind();
        if let Some(picked) = kind_combo(ui, kind, cx.label, depth) {
            *cond = cond.switch_to(picked, cx.encoding);
            changed = true;
        }
        changed |= leaf_ui(ui, cond, cx, mistake.is_some());
    });
    if let Some(why) = &mistake {
        error_text(ui, why);
    }
    match cond {
        Cond::All(list) | Cond::Any(list) => {
            changed |= group_ui(ui, list, cx, depth);
        }
        Cond::Not(inner) => {
            ui.indent("not", |ui| {
                if depth < MAX_ROWS_DEPTH {
                    changed |= cond_ui(ui, inner, cx, depth + 1);
                } else {
                    ui.label(RichText::new(t(S::EditAsRon)).weak());
                }
            });
        }
        _ => {}
    }
    changed
}

/// The kind list: two columns, so it is never cut and never scrolls.
fn kind_combo(
    ui: &mut egui::Ui,
    kind: CondKind,
    label: egui::Id,
    depth: usize,
) -> Option<CondKind> {
    let mut picked = None;
    let response = egui::ComboBox::from_id_salt("cond_kind")
        .selected_text(t(kind.label()))
        .width(180.0)
        .height(f32::INFINITY)
        .show_ui(ui, |ui| {
            egui::Grid::new("cond_kinds").num_columns(2).show(ui, |ui| {
                for (i, k) in CondKind::ALL.into_iter().enumerate() {
                    if ui.selectable_label(k == kind, t(k.label())).clicked() && k != kind {
                        picked = Some(k);
                    }
                    if i % 2 == 1 {
                        ui.end_row();
                    }
                }
            });
        })
        .response
        .labelled_by(label);
    if depth == 0 {
        super::testhook::tag(ui, &response, "cond.kind");
    }
    picked
}

fn text_field(
    ui: &mut egui::Ui,
    text: &mut String,
    (hint, label): (&str, egui::Id),
    tag: &str,
    bad: bool,
) -> bool {
    let field = ui
        .add(
            egui::TextEdit::singleline(text)
                .hint_text(hint)
                .font(egui::TextStyle::Monospace)
                .desired_width(240.0),
        )
        .labelled_by(label);
    super::testhook::tag(ui, &field, tag);
    super::widgets::mark_bad_field(ui, &field, bad);
    field.changed()
}

fn match_combo(ui: &mut egui::Ui, op: &mut Match, label: egui::Id) -> bool {
    let mut changed = false;
    let shown = MATCHES
        .iter()
        .find(|(m, _)| m == op)
        .map_or("", |(_, s)| t(*s));
    egui::ComboBox::from_id_salt("cond_match")
        .selected_text(shown)
        .show_ui(ui, |ui| {
            for (m, s) in MATCHES {
                changed |= ui.selectable_value(op, m, t(s)).changed();
            }
        })
        .response
        .labelled_by(label);
    changed
}

/// The fields of a condition that is not a group.
fn leaf_ui(ui: &mut egui::Ui, cond: &mut Cond, cx: &CondCx, bad: bool) -> bool {
    let label = cx.label;
    let mut changed = false;
    match cond {
        Cond::Always | Cond::All(_) | Cond::Any(_) | Cond::Not(_) => {}
        Cond::Text(op, text) => {
            changed |= match_combo(ui, op, label);
            changed |= text_field(ui, text, ("AT+CSQ", label), "cond.text", bad);
        }
        Cond::Bytes(op, text) => {
            changed |= match_combo(ui, op, label);
            changed |= text_field(ui, text, ("01 03 ?? ??", label), "cond.bytes", bad);
        }
        Cond::Masked(value, mask) => {
            let value_label = ui.label(t(S::MaskValue)).on_hover_text(t(S::TipMasked)).id;
            changed |= text_field(ui, value, ("01 80", value_label), "cond.mask.value", bad);
            let mask_label = ui.label(t(S::MaskMask)).on_hover_text(t(S::TipMasked)).id;
            changed |= text_field(ui, mask, ("FF F0", mask_label), "cond.mask.mask", bad);
        }
        Cond::Regex(text) => {
            changed |= text_field(ui, text, (r"^T=(\d+)$", label), "cond.regex", bad);
        }
        Cond::BytesRegex(text) => {
            changed |= text_field(ui, text, (r"^\x01\x03", label), "cond.bregex", bad);
        }
        Cond::From(text) => {
            changed |= text_field(ui, text, ("192.168.1.0/24, :502", label), "cond.from", bad);
        }
        Cond::State(text) => {
            changed |= text_field(ui, text, ("LOGGED_IN", label), "cond.state", bad);
        }
        Cond::Expr(text) => {
            changed |= text_field(
                ui,
                text,
                ("rx.u16be@8 + rx.u16be@10 > 100", label),
                "cond.expr",
                bad,
            );
        }
        Cond::Length(min, max) => {
            let min_label = ui.label(t(S::RuleMin)).id;
            changed |= ui
                .add(egui::DragValue::new(min).range(0..=usize::MAX))
                .labelled_by(min_label)
                .changed();
            let max_label = ui.label(t(S::RuleMax)).id;
            changed |= ui
                .add(egui::DragValue::new(max).range(0..=usize::MAX))
                .labelled_by(max_label)
                .changed();
        }
        Cond::Int(at, ty, is) => changed |= int_ui(ui, (at, ty, is), label),
        Cond::Checksum(checksum, valid) => {
            // The fixed bytes as typed, kept while they do not parse yet.
            let id = ui.scope_id().with("fixed_trailer");
            let mut fixed = ui.data(|d| d.get_temp::<String>(id)).unwrap_or_default();
            let before = (checksum.clone(), *valid);
            ui.vertical(|ui| {
                super::widgets::checksum_editor_ui(
                    ui,
                    "cond_checksum",
                    t(S::Checksum),
                    t(S::TipChecksumSend),
                    checksum,
                    &mut fixed,
                );
                ui.horizontal(|ui| {
                    ui.selectable_value(valid, true, t(S::ChecksumValid));
                    ui.selectable_value(valid, false, t(S::ChecksumInvalid));
                });
            });
            ui.data_mut(|d| d.insert_temp(id, fixed));
            changed |= before != (checksum.clone(), *valid);
        }
    }
    changed
}

/// The conditions of an all / any, each removable, and one more to add.
fn group_ui(ui: &mut egui::Ui, list: &mut Vec<Cond>, cx: &CondCx, depth: usize) -> bool {
    let mut changed = false;
    ui.indent("group", |ui| {
        // Above the rows: a new row does not put its Remove button under the pointer, and
        // the button stays where it was for the next click.
        let add = ui
            .small_button(t(S::CondAddChild))
            .on_hover_text(t(S::TipCondAddChild));
        if depth == 0 {
            super::testhook::tag(ui, &add, "cond.add");
        }
        let mut remove = None;
        for (i, child) in list.iter_mut().enumerate() {
            ui.push_id(i, |ui| {
                ui.horizontal_top(|ui| {
                    if ui
                        .small_button(t(S::CondRemove))
                        .on_hover_text(t(S::TipCondRemove))
                        .clicked()
                    {
                        remove = Some(i);
                    }
                    ui.vertical(|ui| {
                        if depth < MAX_ROWS_DEPTH {
                            changed |= cond_ui(ui, child, cx, depth + 1);
                        } else {
                            ui.label(RichText::new(t(S::EditAsRon)).weak());
                        }
                    });
                });
            });
        }
        if let Some(i) = remove
            && i < list.len()
        {
            list.remove(i);
            changed = true;
        }
        if add.clicked() {
            list.push(Cond::Text(Match::Exact, String::new()));
            changed = true;
        }
    });
    changed
}

/// An integer at an offset: where, its type, how it compares, and with what.
fn int_ui(
    ui: &mut egui::Ui,
    (at, ty, is): (&mut usize, &mut String, &mut Compare),
    label: egui::Id,
) -> bool {
    let mut changed = false;
    let offset = ui.label(t(S::RuleOffset)).id;
    changed |= ui
        .add(egui::DragValue::new(at).range(0..=65_535))
        .labelled_by(offset)
        .changed();
    egui::ComboBox::from_id_salt("int_type")
        .selected_text(ty.as_str())
        .show_ui(ui, |ui| {
            for name in INT_TYPES {
                changed |= ui.selectable_value(ty, name.to_owned(), name).changed();
            }
        })
        .response
        .labelled_by(label)
        .on_hover_text(t(S::RuleIntType));
    let ops: [(&str, Compare); 8] = [
        ("=", Compare::Eq(0)),
        ("≠", Compare::Ne(0)),
        ("<", Compare::Lt(0)),
        ("≤", Compare::Le(0)),
        (">", Compare::Gt(0)),
        ("≥", Compare::Ge(0)),
        ("a..b", Compare::Range(0, 0)),
        ("∈", Compare::In(Vec::new())),
    ];
    let current = std::mem::discriminant(&*is);
    let shown = ops
        .iter()
        .find(|(_, c)| std::mem::discriminant(c) == current)
        .map_or("=", |(s, _)| *s);
    egui::ComboBox::from_id_salt("int_cmp")
        .selected_text(shown)
        .width(50.0)
        .show_ui(ui, |ui| {
            for (text, op) in ops {
                if ui
                    .selectable_label(std::mem::discriminant(&op) == current, text)
                    .clicked()
                    && std::mem::discriminant(&op) != current
                {
                    // The number typed so far stays.
                    let keep = match &*is {
                        Compare::Eq(v)
                        | Compare::Ne(v)
                        | Compare::Lt(v)
                        | Compare::Le(v)
                        | Compare::Gt(v)
                        | Compare::Ge(v)
                        | Compare::Range(v, _) => *v,
                        Compare::In(set) => set.first().copied().unwrap_or(0),
                    };
                    *is = match op {
                        Compare::Eq(_) => Compare::Eq(keep),
                        Compare::Ne(_) => Compare::Ne(keep),
                        Compare::Lt(_) => Compare::Lt(keep),
                        Compare::Le(_) => Compare::Le(keep),
                        Compare::Gt(_) => Compare::Gt(keep),
                        Compare::Ge(_) => Compare::Ge(keep),
                        Compare::Range(..) => Compare::Range(keep, keep),
                        // 0 is only the field's start: the list starts empty.
                        Compare::In(_) => {
                            Compare::In(if keep == 0 { Vec::new() } else { vec![keep] })
                        }
                    };
                    changed = true;
                }
            }
        })
        .response
        .labelled_by(label);
    match is {
        Compare::Eq(v)
        | Compare::Ne(v)
        | Compare::Lt(v)
        | Compare::Le(v)
        | Compare::Gt(v)
        | Compare::Ge(v) => {
            changed |= ui.add(egui::DragValue::new(v)).labelled_by(label).changed();
        }
        Compare::Range(lo, hi) => {
            changed |= ui
                .add(egui::DragValue::new(lo))
                .labelled_by(label)
                .changed();
            ui.label("..=");
            changed |= ui
                .add(egui::DragValue::new(hi))
                .labelled_by(label)
                .changed();
        }
        Compare::In(set) => changed |= set_field(ui, set, label),
    }
    changed
}

/// "One of": the numbers as typed (commas, spaces, hex), kept as typed while the field has the
/// keyboard; the set is what parses.
fn set_field(ui: &mut egui::Ui, set: &mut Vec<i64>, label: egui::Id) -> bool {
    let id = ui.scope_id().with("in_set_text");
    let shown = || {
        set.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = ui.data(|d| d.get_temp::<String>(id)).unwrap_or_else(shown);
    let field = ui
        .add(
            egui::TextEdit::singleline(&mut text)
                .hint_text("1, 2, 0x10")
                .font(egui::TextStyle::Monospace)
                .desired_width(140.0),
        )
        .labelled_by(label);
    super::testhook::tag(ui, &field, "cond.in");
    let mut changed = false;
    if field.changed() {
        let parsed: Vec<i64> = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .filter_map(
                |s| match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                    Some(digits) => i64::from_str_radix(digits, 16).ok(),
                    None => s.parse().ok(),
                },
            )
            .collect();
        if parsed != *set {
            *set = parsed;
            changed = true;
        }
    }
    if field.has_focus() {
        ui.data_mut(|d| d.insert_temp(id, text));
    } else {
        ui.data_mut(|d| d.remove::<String>(id));
    }
    changed
}

/// A condition's text form while it is typed ("Edit as text"): parsed as typed; the error
/// says where it stops.
pub fn ron_ui(
    ui: &mut egui::Ui,
    cond: &mut Cond,
    text: &mut String,
    label: egui::Id,
) -> (bool, Option<String>) {
    let field = ui
        .add(
            egui::TextEdit::multiline(text)
                .font(egui::TextStyle::Monospace)
                .desired_rows(5)
                .desired_width(f32::INFINITY),
        )
        .on_hover_text(t(S::TipCondRon))
        .labelled_by(label);
    super::testhook::tag(ui, &field, "cond.ron");
    match sockscope_core::rules::from_text::<Cond>(text) {
        Ok(parsed) => {
            if field.changed() && parsed != *cond {
                *cond = parsed;
                return (true, None);
            }
            (false, None)
        }
        Err(why) => (false, Some(why)),
    }
}

/// How the session shows bytes.
#[derive(Clone, Copy)]
pub struct Show {
    /// As hex.
    pub hex: bool,
    /// In this encoding.
    pub encoding: sockscope_core::codec::TextEncoding,
}

/// Bytes as hex, or as text in the encoding.
pub fn shown(bytes: &[u8], show: Show) -> String {
    if show.hex {
        hex::format(bytes)
    } else {
        let text = show.encoding.decode_complete(bytes);
        format!("“{}”", sockscope_core::codec::text::one_line(&text))
    }
}

/// An error sentence, wrapped; monospace when it has lines of its own (a regex's caret).
pub fn error_text(ui: &mut egui::Ui, text: &str) {
    let mut rich = RichText::new(text).color(ui.visuals().error_fg_color);
    if text.contains('\n') {
        rich = rich.monospace();
    }
    let label = ui.add(egui::Label::new(rich).wrap());
    super::testhook::tag(ui, &label, "rules.error");
}

/// A rule's colour for passed and failed marks.
pub fn passed_color() -> Color32 {
    Color32::from_rgb(0, 150, 60)
}

/// The reply's hint: an example of the mode's own kind.
pub fn reply_hint(mode: InputMode) -> &'static str {
    match mode {
        InputMode::Text => "OK {{cap.1}}",
        InputMode::Escapes => "OK\\r\\n{{rx.len}}",
        InputMode::Hex => "{{rx[0..4]}} 00 06 {{rx[6..8]}}",
    }
}

/// A reply built by fields of the session's protocol: its `field = expression` lines as typed
/// (held while a line is not one, with the sentence), whether it starts from the request's
/// fields, and a way back to a payload.
fn by_fields_ui(ui: &mut egui::Ui, reply: &mut ReplySpec, label: egui::Id, mistake: Option<&str>) {
    use sockscope_core::rules::{FieldReply, FieldValues};
    ui.label(RichText::new(t(S::ReplyByFields)).weak());
    let id = ui.scope_id().with("reply_fields_text");
    let held: Option<String> = ui.data(|d| d.get_temp(id));
    let mut text = held.unwrap_or_else(|| reply.fields.values.to_text());
    let field = ui
        .add(
            egui::TextEdit::multiline(&mut text)
                .font(egui::TextStyle::Monospace)
                .desired_rows(3)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label);
    super::testhook::tag(ui, &field, "rule.reply.fields");
    let read = FieldValues::from_text(&text);
    match &read {
        Ok(values) if !values.0.is_empty() => {
            reply.fields.values = values.clone();
            ui.data_mut(|d| {
                d.remove::<String>(id);
            });
        }
        // Emptied: kept as typed (no fields would make it a payload reply by surprise).
        Ok(_) | Err(_) => {
            ui.data_mut(|d| d.insert_temp(id, text));
        }
    }
    let why = read.err().or_else(|| mistake.map(str::to_owned));
    super::widgets::mark_bad_field(ui, &field, why.is_some());
    if let Some(why) = &why {
        error_text(ui, why);
    }
    ui.horizontal(|ui| {
        ui.checkbox(&mut reply.fields.fresh, t(S::ReplyByFieldsFresh));
        if ui.button(t(S::ReplyUsePayload)).clicked() {
            reply.fields = FieldReply::default();
            ui.data_mut(|d| {
                d.remove::<String>(id);
            });
        }
    });
}

/// A payload as the send box has it: mode, line ending, the template, checksum and length
/// prefix, and its bytes when they are fixed. For a rule's reply and a script's Send. Its
/// mistake (or `mistake`, one the caller found: a group the condition lacks) gives the
/// template a red border and its sentence under it.
pub fn payload_ui(
    ui: &mut egui::Ui,
    reply: &mut ReplySpec,
    (label, encoding): (egui::Id, sockscope_core::codec::TextEncoding),
    tables: &std::collections::BTreeMap<String, Vec<u8>>,
    mistake: Option<&str>,
) -> bool {
    let before = reply.clone();
    // A reply built by fields (a simulator's): its fields, not an empty payload that is not
    // used (it showed as an empty Text send).
    if !reply.fields.is_empty() {
        by_fields_ui(ui, reply, label, mistake);
        return *reply != before;
    }
    ui.horizontal_wrapped(|ui| {
        for (mode, name) in [
            (InputMode::Text, S::Text),
            (InputMode::Hex, S::Hex),
            (InputMode::Escapes, S::Escapes),
        ] {
            ui.selectable_value(&mut reply.mode, mode, t(name));
        }
        let line_end = ui.label(t(S::LineEnd)).id;
        super::widgets::line_ending_combo_ui(ui, "reply_line_ending", &mut reply.line_ending)
            .labelled_by(line_end);
    });
    let payload = ui
        .add(
            egui::TextEdit::multiline(&mut reply.payload)
                .font(egui::TextStyle::Monospace)
                .desired_rows(2)
                .desired_width(f32::INFINITY)
                .hint_text(reply_hint(reply.mode)),
        )
        .on_hover_text(t(S::TipReplyTemplate))
        .labelled_by(label);
    super::testhook::tag(ui, &payload, "rule.reply");
    let compiled = sockscope_core::rules::template::Template::compile(reply, encoding);
    let why = compiled.as_ref().err().map(String::as_str).or(mistake);
    super::widgets::mark_bad_field(ui, &payload, why.is_some());
    if let Some(why) = why {
        error_text(ui, why);
    }
    // The send box's checksum block, and a length prefix.
    let id = ui.scope_id().with("reply_fixed_trailer");
    let mut fixed = ui.data(|d| d.get_temp::<String>(id)).unwrap_or_default();
    super::widgets::checksum_editor_ui(
        ui,
        "reply_checksum",
        t(S::Checksum),
        t(S::TipChecksumSend),
        &mut reply.checksum,
        &mut fixed,
    );
    ui.data_mut(|d| d.insert_temp(id, fixed));
    prefix_ui(ui, &mut reply.length_prefix);
    // Like the send box: the exact bytes, when they do not depend on the request.
    match compiled {
        Ok(template) if template.reads_request() => {
            ui.label(RichText::new(t(S::ReplyDependsOnRequest)).weak());
        }
        Ok(template) => {
            if let Ok(bytes) = sockscope_core::rules::template::preview_with(
                &template,
                std::time::SystemTime::now(),
                tables,
            ) {
                let preview = ui.add(
                    egui::Label::new(
                        RichText::new(tf(S::ReplyWire, &[&hex::format(&bytes)]))
                            .monospace()
                            .weak(),
                    )
                    .wrap(),
                );
                super::testhook::tag(ui, &preview, "rule.preview");
            }
        }
        // Said under the template.
        Err(_) => {}
    }
    if let Some(prefix) = &reply.length_prefix {
        ui.label(RichText::new(tf(S::ReplyPrefixShown, &[&prefix.width])).weak());
    }
    *reply != before
}

/// A length prefix before the payload: on or off, its width, byte order and whether it
/// counts itself.
fn prefix_ui(ui: &mut egui::Ui, prefix: &mut Option<sockscope_core::codec::length::LengthPrefix>) {
    use sockscope_core::codec::checksum::ByteOrder;
    use sockscope_core::codec::length::LengthPrefix;
    ui.horizontal_wrapped(|ui| {
        let mut on = prefix.is_some();
        let check = ui
            .checkbox(&mut on, t(S::ReplyLengthPrefix))
            .on_hover_text(t(S::TipLengthPrefix));
        if check.changed() {
            *prefix = on.then(LengthPrefix::default);
        }
        if let Some(prefix) = prefix {
            egui::ComboBox::from_id_salt("reply_prefix_width")
                .selected_text(format!("{} B", prefix.width))
                .width(50.0)
                .show_ui(ui, |ui| {
                    for width in LengthPrefix::WIDTHS {
                        ui.selectable_value(&mut prefix.width, width, format!("{width} B"));
                    }
                })
                .response
                .labelled_by(check.id)
                .on_hover_text(t(S::TipLengthWidth));
            ui.selectable_value(&mut prefix.order, ByteOrder::Big, t(S::BigEndian));
            ui.selectable_value(&mut prefix.order, ByteOrder::Little, t(S::LittleEndian));
            ui.checkbox(&mut prefix.includes_header, t(S::CountsHeader));
        }
    });
}

impl Show {
    /// As `form` shows received data.
    pub fn of(form: &sockscope_core::profile::Form) -> Self {
        Self {
            hex: form.rx_hex,
            encoding: form.encoding,
        }
    }
}
