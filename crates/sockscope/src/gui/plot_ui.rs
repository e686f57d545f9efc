//! The Plot window of a tab: decoded fields drawn live (a field is added from the field tree's
//! right-click menu or from the list of the protocol's numeric fields). X is the time, the
//! sample number or another plotted field; several fields are stacked plots with linked X
//! axes, or one plot with a legend. Pause freezes the view while values are still collected;
//! Export writes the series as CSV. The series live in the core ([`SeriesSet`]): fed here a
//! budgeted slice per frame, and decimated per pixel column before drawing, so a million
//! points draw in a frame.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use eframe::egui::{self, RichText};
use egui_plot::{GridInput, GridMark, Legend, Line, Plot, PlotPoints, Points};
use sockscope_core::capture::series::{Pick, Plotted, Point, SERIES_CAP, SeriesSet, decimate};
use sockscope_core::capture::{LogStore, Record, RelayWay, UTF8_BOM, timestamp};
use sockscope_core::protocol::{Field, NodeId, Protocol};

use super::i18n::{Lang, S, t, tf};
use super::model::FileRequest;
use super::state::{Form, TabUi, UiAction};

/// How long a frame may spend decoding for the plots before it draws.
pub const FEED_SLICE: Duration = Duration::from_millis(4);

pub use super::model::{PlotAction, PlotView, XAxis};

impl PlotView {
    /// Does what the window asked; `log` is the tab's. Returns a sentence for the log when
    /// there is one to say (an export done or failed) and whether it is an error.
    pub fn apply(&mut self, action: PlotAction, log: &LogStore) -> Option<(String, bool)> {
        match action {
            PlotAction::Toggle => self.open = !self.open,
            PlotAction::Add(pick, label) => {
                self.open = true;
                self.set.add(pick, label, log);
            }
            PlotAction::Remove(n) => {
                self.set.remove(n);
                self.x = match self.x {
                    XAxis::Field(x) if x == n => XAxis::Time,
                    XAxis::Field(x) if x > n => XAxis::Field(x - 1),
                    x => x,
                };
            }
            PlotAction::Pause => {
                self.paused_at = match self.paused_at {
                    Some(_) => None,
                    None => Some(log.next_seq()),
                };
            }
            PlotAction::ResetView => self.reset = true,
            PlotAction::X(x) => {
                self.x = x;
                self.reset = true;
            }
            PlotAction::Stacked(on) => self.stacked = on,
            PlotAction::Export(path) => {
                return Some(match export_csv(&self.set, &path) {
                    Ok(rows) => (tf(S::PlotExported, &[&rows, &path.display()]), false),
                    Err(why) => (tf(S::PlotExportFailed, &[&path.display(), &why]), true),
                });
            }
        }
        None
    }

    /// Decodes what arrived since the last frame for the plotted fields (at most
    /// [`FEED_SLICE`]); nothing when no field is plotted. A change of protocol starts the
    /// series again.
    pub fn feed(&mut self, form: &Form, log: &LogStore) {
        if self.set.is_empty() {
            self.behind = 0;
            return;
        }
        let protocol = super::protocol_pick::chosen(form);
        let same = match (&self.with, &protocol) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.set.restart(log);
            self.with.clone_from(&protocol);
        }
        let Some(protocol) = protocol else {
            self.behind = 0;
            return;
        };
        let replies = super::protocol_pick::replies_apart(form);
        let mode = form.mode;
        let decode = |record: &Record<'_>| {
            let p = match (&replies, record.relay) {
                (Some(r), Some(RelayWay::FromUpstream)) => Arc::clone(r),
                _ => Arc::clone(&protocol),
            };
            Some((p, super::fields::dir_of(mode, record)))
        };
        self.behind = self.set.feed(log, decode, FEED_SLICE).behind;
    }
}

/// True when the field tree's `field` can be plotted.
pub fn plottable(protocol: &Protocol, field: &Field) -> bool {
    sockscope_core::capture::series::value_of(protocol, field).is_some()
}

/// The pick for a field of the tree at `path` (its item indexes kept: that item is plotted).
pub fn pick_of(path: &str, field: &Field) -> Pick {
    Pick {
        path: path.to_owned(),
        node: field.node,
    }
}

/// A spec field's name in the current language.
fn node_label(protocol: &Protocol, node: NodeId) -> Option<String> {
    let n = protocol.program.node(node)?;
    let name = match super::i18n::lang() {
        Lang::Zh if !n.zh.is_empty() => &n.zh,
        _ if !n.en.is_empty() => &n.en,
        _ => &*n.name,
    };
    Some(name.to_owned())
}

/// A plotted field's name as shown (in the current language when the spec names it).
fn label_of(protocol: Option<&Protocol>, p: &Plotted) -> String {
    let name = protocol
        .zip(p.pick.node)
        .and_then(|(protocol, node)| node_label(protocol, node))
        .unwrap_or_else(|| p.label.clone());
    match &p.unit {
        Some(unit) => format!("{name} [{unit}]"),
        None => name,
    }
}

/// How many of the newest data records the Add list looks through for numeric fields.
const ADD_SCAN: usize = 400;

/// One field the Add list offers.
struct Offer {
    pick: Pick,
    /// Its name (in the current language).
    label: String,
    /// Its unit, if any.
    unit: Option<String>,
    /// Where it is in the frame (`body.speed`), repeat items as their first.
    path: String,
    /// The message it was seen in.
    seen_in: String,
}

/// The numeric fields of the frames the log holds (the newest [`ADD_SCAN`] data records, each
/// decoded with its direction's protocol): what can be plotted, by its path in the frame. (A
/// list from the spec alone offered fields of messages that never came, and two fields of one
/// name that could not be told apart: picked, they plotted nothing and said nothing.)
fn numeric_fields(tab: &TabUi<'_>) -> Vec<Offer> {
    let mut out: Vec<Offer> = Vec::new();
    let data = tab
        .capture
        .log
        .iter()
        .rev()
        .filter(|r| {
            matches!(
                r.kind,
                sockscope_core::capture::RecordKind::Rx | sockscope_core::capture::RecordKind::Tx
            ) && !r.bytes.is_empty()
        })
        .take(ADD_SCAN);
    for record in data {
        let Some((protocol, decoded)) = super::protocol_pick::decoded(tab.form, &record) else {
            continue;
        };
        let summary = protocol.summary(&decoded);
        for (path, field) in decoded.all() {
            let Some((_, unit)) = sockscope_core::capture::series::value_of(&protocol, field)
            else {
                continue;
            };
            let path = sockscope_core::capture::series::without_indexes(&path);
            if out
                .iter()
                .any(|o| o.path == path && o.pick.node == field.node)
            {
                continue;
            }
            out.push(Offer {
                pick: Pick {
                    path: path.clone(),
                    node: field.node,
                },
                label: protocol.label(field),
                unit,
                path,
                seen_in: summary.clone(),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// A time on the X axis (seconds since the Unix epoch) as the clock shows it.
fn clock(x: f64) -> String {
    if !x.is_finite() || x < 0.0 {
        return String::new();
    }
    let at = UNIX_EPOCH + Duration::from_secs_f64(x);
    let full = timestamp(at);
    // `2026-12-07 22:35:15.123` → `22:35:15.123`, or `22:35:15` on a whole second.
    let time = full.split_once(' ').map_or(full.as_str(), |(_, time)| time);
    time.strip_suffix(".000").unwrap_or(time).to_owned()
}

/// A value axis mark's label: as many decimals as its step needs (a mark at 4.5 on a 0.5 step
/// was labelled "4": egui_plot rounds the step's decimals, 0.5 to none), and never "-0".
fn value_label(value: f64, step: f64) -> String {
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10()).ceil().clamp(0.0, 12.0) as usize
    } else {
        0
    };
    let text = format!("{value:.decimals$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_owned(),
        _ => text,
    }
}

/// Grid marks of a value axis at 1, 2 and 5 times a power of ten (egui_plot's own are powers
/// of ten: a voltage swinging 214–226 V in a stacked plot was labelled "220" alone). Each mark
/// carries the widest step it is on, which is what egui_plot labels by.
#[expect(
    clippy::needless_pass_by_value,
    reason = "egui_plot's grid spacer takes its input by value"
)]
fn steps_125(input: GridInput) -> Vec<GridMark> {
    let (low, high) = input.bounds;
    let base = input.base_step_size.abs();
    if !(low.is_finite() && high.is_finite() && base.is_finite()) || high <= low || base <= 0.0 {
        return Vec::new();
    }
    let from = base.log10().floor() as i32;
    let steps: Vec<f64> = (from..from + 4)
        .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
        .filter(|s| *s >= base)
        .take(4)
        .collect();
    let Some(&fine) = steps.first() else {
        return Vec::new();
    };
    let (first, last) = ((low / fine).ceil(), (high / fine).floor());
    if last - first > 1000.0 {
        return Vec::new();
    }
    let mut marks = Vec::new();
    let mut i = first;
    while i <= last {
        let value = i * fine;
        let step_size = steps
            .iter()
            .rev()
            .find(|s| ((value / **s).round() * **s - value).abs() <= fine * 1e-6)
            .copied()
            .unwrap_or(fine);
        marks.push(GridMark { value, step_size });
        i += 1.0;
    }
    marks
}

/// The series' points as `[x, y]` for X, up to a pause (records from `paused_at` on are left
/// out): for time and sample, only those in `lo..=hi` (found by binary search).
fn points_of(
    set: &SeriesSet,
    n: usize,
    x: XAxis,
    paused_at: Option<u64>,
    range: Option<(f64, f64)>,
) -> Vec<[f64; 2]> {
    let Some(p) = set.plotted.get(n) else {
        return Vec::new();
    };
    let upto = paused_at.unwrap_or(u64::MAX);
    let series = &p.series;
    match x {
        XAxis::Time | XAxis::Sample => {
            let get = |pt: &sockscope_core::capture::series::Point| match x {
                XAxis::Time => pt.t,
                _ => pt.n as f64,
            };
            let (start, end) = match range {
                Some((lo, hi)) => series.range_by(get, lo, hi),
                None => (0, series.len()),
            };
            series
                .slice(start, end)
                .take_while(|pt| pt.seq < upto)
                .map(|pt| [get(pt), pt.v])
                .collect()
        }
        XAxis::Field(other) => {
            let Some(xs) = set.plotted.get(other) else {
                return Vec::new();
            };
            // The two fields' values from the same messages, paired in order.
            let mut out = Vec::new();
            let mut xi = xs.series.iter().peekable();
            for pt in series.iter().take_while(|pt| pt.seq < upto) {
                while xi.peek().is_some_and(|q| q.seq < pt.seq) {
                    xi.next();
                }
                if let Some(q) = xi.peek()
                    && q.seq == pt.seq
                {
                    out.push([q.v, pt.v]);
                    xi.next();
                }
            }
            out
        }
    }
}

/// The X range all series span (up to a pause), for time and sample.
fn x_span(set: &SeriesSet, x: XAxis, paused_at: Option<u64>) -> Option<(f64, f64)> {
    let upto = paused_at.unwrap_or(u64::MAX);
    let get = |pt: &sockscope_core::capture::series::Point| match x {
        XAxis::Time => pt.t,
        _ => pt.n as f64,
    };
    let mut span: Option<(f64, f64)> = None;
    for p in &set.plotted {
        let first = p.series.iter().next().filter(|pt| pt.seq < upto);
        let last = p.series.iter().rev().find(|pt| pt.seq < upto);
        if let (Some(a), Some(b)) = (first, last) {
            let (lo, hi) = span.unwrap_or((get(a), get(b)));
            span = Some((lo.min(get(a)), hi.max(get(b))));
        }
    }
    span
}

/// Series `k`'s points for X, decimated to `width` columns into `out`: over `range` for time
/// and sample (the visible slice found by binary search and decimated as it is read, never
/// copied whole), over all of them for another field.
#[expect(
    clippy::too_many_arguments,
    reason = "what one series' drawing is made of"
)]
fn decimated(
    p: &Plotted,
    set: &SeriesSet,
    k: usize,
    x: XAxis,
    paused_at: Option<u64>,
    range: Option<(f64, f64)>,
    width: usize,
    scratch: &mut Vec<[f64; 2]>,
) {
    match (x, range) {
        // Time and sample rise along the series: the visible slice is found by
        // binary search and decimated as it is read, never copied whole.
        (XAxis::Time | XAxis::Sample, Some((lo, hi))) => {
            let get = |pt: &Point| match x {
                XAxis::Time => pt.t,
                _ => pt.n as f64,
            };
            let (start, end) = p.series.range_by(get, lo, hi);
            let upto = paused_at.unwrap_or(u64::MAX);
            let points = p
                .series
                .slice(start, end)
                .take_while(|pt| pt.seq < upto)
                .map(|pt| [get(pt), pt.v]);
            decimate(points, lo, hi, width, scratch);
        }
        _ => {
            let points = points_of(set, k, x, paused_at, None);
            let (lo, hi) = points
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                    (a.min(p[0]), b.max(p[0]))
                });
            decimate(points, lo, hi, width, scratch);
        }
    }
}

/// Plot `g` of the window: its height, X linked with the others, values at 1-2-5 steps, and
/// X as a clock when it is the time.
fn plot_of(g: usize, height: f32, link: egui::Id, x: XAxis) -> Plot<'static> {
    let plot = Plot::new(("field-plot", g))
        .height(height)
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .y_grid_spacer(steps_125)
        .y_axis_formatter(|mark, _| value_label(mark.value, mark.step_size))
        .show_x(true)
        .show_y(true);
    if x != XAxis::Time {
        return plot;
    }
    // A time at the right edge is centred on its tick and ran past the window's edge (over
    // the log beside it): the last few percent of the axis go unlabelled.
    plot.x_axis_formatter(|mark, range| {
        let right = range.end() - (range.end() - range.start()) * 0.05;
        if mark.value > right {
            String::new()
        } else {
            clock(mark.value)
        }
    })
}

/// An empty plot says why, over it: X = another field pairs the two values of one message,
/// and these fields never come in the same message (DL/T 645's voltage and current are read
/// apart). What is said is kept in `said` (for the tests).
fn say_unpaired(
    ui: &egui::Ui,
    rect: egui::Rect,
    names: Vec<String>,
    x_label: &str,
    said: &mut Vec<String>,
) {
    for name in names {
        let note = tf(S::PlotNoPairs, &[&name, &x_label]);
        ui.painter().text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            &note,
            egui::FontId::proportional(14.0),
            ui.visuals().warn_fg_color,
        );
        said.push(note);
    }
}

/// Draws the plots of `view` in `ui` (the window's body below its tool bar): stacked with
/// linked X axes, or one plot with a legend. Each series is decimated to the plot's width
/// in pixels over the visible X range first. Public for the benchmark.
pub fn plots_ui(ui: &mut egui::Ui, view: &mut PlotView, protocol: Option<&Protocol>) {
    let n = view.set.plotted.len();
    if n == 0 {
        ui.weak(t(S::PlotEmpty));
        return;
    }
    let x = view.x;
    let x_label = match x {
        XAxis::Time => t(S::PlotXTime).to_owned(),
        XAxis::Sample => t(S::PlotXSample).to_owned(),
        XAxis::Field(k) => view
            .set
            .plotted
            .get(k)
            .map(|p| label_of(protocol, p))
            .unwrap_or_default(),
    };
    let reset = std::mem::take(&mut view.reset);
    let link = ui.scope_id().with("plot-x-link");
    let shown: Vec<usize> = (0..n).filter(|k| XAxis::Field(*k) != x).collect();
    let groups: Vec<Vec<usize>> = if view.stacked {
        shown.iter().map(|k| vec![*k]).collect()
    } else {
        vec![shown]
    };
    let count = groups.len().max(1);
    let gap = ui.spacing().item_spacing.y;
    let height = ((ui.available_height() - gap * (count as f32 - 1.0)) / count as f32).max(80.0);
    let span = x_span(&view.set, x, view.paused_at);
    let paused_at = view.paused_at;
    view.shown_x.clear();
    view.unpaired.clear();
    for (g, group) in groups.iter().enumerate() {
        let last = g + 1 == count;
        let mut plot = plot_of(g, height, link, x);
        if last {
            plot = plot.x_axis_label(x_label.clone());
        }
        if let [one] = group.as_slice()
            && let Some(p) = view.set.plotted.get(*one)
        {
            plot = plot.y_axis_label(label_of(protocol, p));
        } else {
            plot = plot.legend(Legend::default());
        }
        // Following (fitted to the data), every stacked plot takes all fields' X span: the
        // link alone shared only what the user zoomed or panned to, and a field added later
        // showed its own few seconds under another's minute.
        if let (XAxis::Time | XAxis::Sample, Some((lo, hi))) = (x, span) {
            plot = plot.include_x(lo).include_x(hi);
        }
        if reset {
            plot = plot.reset();
        }
        let set = &view.set;
        let scratch = &mut view.scratch;
        // Fields with values but none in a message that also holds X's field.
        let mut unpaired: Vec<String> = Vec::new();
        let response = plot.show(ui, |plot_ui| {
            let width = plot_ui.response().rect.width().max(1.0) as usize;
            // Fitted to the data: decimate over all of it; zoomed or panned: over what shows.
            let bounds = plot_ui.plot_bounds();
            let range = if plot_ui.auto_bounds().x {
                span
            } else {
                Some((bounds.min()[0], bounds.max()[0]))
            };
            for k in group {
                let Some(p) = set.plotted.get(*k) else {
                    continue;
                };
                let name = label_of(protocol, p);
                decimated(p, set, *k, x, paused_at, range, width, scratch);
                if let XAxis::Field(other) = x
                    && scratch.is_empty()
                    && !p.series.is_empty()
                    && set.plotted.get(other).is_some_and(|o| !o.series.is_empty())
                {
                    unpaired.push(name.clone());
                }
                let drawn = PlotPoints::from(std::mem::take(scratch));
                if matches!(x, XAxis::Field(_)) {
                    plot_ui.points(Points::new(name, drawn).radius(2.0));
                } else {
                    plot_ui.line(Line::new(name, drawn));
                }
            }
        });
        super::testhook::tag(ui, &response.response, &format!("plot.area.{g}"));
        say_unpaired(
            ui,
            response.response.rect,
            unpaired,
            &x_label,
            &mut view.unpaired,
        );
        let bounds = response.transform.bounds();
        view.shown_x.push((bounds.min()[0], bounds.max()[0]));
        if super::testhook::wanted() {
            let shown = format!("{:.1}..{:.1}", bounds.min()[0], bounds.max()[0]);
            super::testhook::value(ui.ctx(), &format!("plot.x.{g}"), shown);
        }
    }
}

/// The Plot window of the current tab, when open.
pub fn window_ui(ctx: &egui::Context, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    if !tab.view.plot.open {
        return;
    }
    let mut open = true;
    let protocol = super::protocol_pick::chosen(tab.form);
    if tab.view.plot.behind > 0 {
        // Catching up: the next slice comes with the next frame.
        ctx.request_repaint();
    }
    egui::Window::new(t(S::PlotTitle))
        .id(egui::Id::unique("plot_window"))
        .open(&mut open)
        .default_size([640.0, 420.0])
        .min_size([320.0, 200.0])
        .resizable(true)
        .constrain(true)
        .show(ctx, |ui| {
            toolbar_ui(ui, tab, protocol.as_deref(), actions);
            status_ui(ui, tab);
            plots_ui(ui, &mut tab.view.plot, protocol.as_deref());
        });
    if !open {
        actions.push(UiAction::Plot(PlotAction::Toggle));
    }
}

/// The Add menu: the numeric fields of the frames in the log, each with where it is.
fn add_menu_ui(
    ui: &mut egui::Ui,
    tab: &TabUi<'_>,
    protocol: Option<&Protocol>,
    actions: &mut Vec<UiAction>,
) {
    let view = &tab.view.plot;
    if protocol.is_none() {
        ui.label(t(S::PlotNoProtocol));
        return;
    }
    let offers = numeric_fields(tab);
    if offers.is_empty() {
        ui.label(t(S::PlotNoFieldsYet));
        return;
    }
    egui::ScrollArea::vertical()
        .max_height(360.0)
        .show(ui, |ui| {
            for offer in offers {
                let plotted = view.set.plotted.iter().any(|p| p.pick == offer.pick);
                let shown = match &offer.unit {
                    Some(unit) => format!("{} [{unit}] · {}", offer.label, offer.path),
                    None => format!("{} · {}", offer.label, offer.path),
                };
                let item = ui
                    .add_enabled(!plotted, egui::Button::new(&shown))
                    .on_hover_text(tf(S::TipPlotSeenIn, &[&offer.seen_in]));
                let node = offer.pick.node.unwrap_or_default();
                super::testhook::tag(ui, &item, &format!("plot.add.{node}"));
                super::testhook::tag(ui, &item, &format!("plot.add.{}", offer.path));
                if item.clicked() {
                    actions.push(UiAction::Plot(PlotAction::Add(offer.pick, offer.label)));
                    ui.close();
                }
            }
        });
}

/// Add, X, Stacked, Pause, Reset view, Export, and a chip per plotted field (× removes it).
fn toolbar_ui(
    ui: &mut egui::Ui,
    tab: &TabUi<'_>,
    protocol: Option<&Protocol>,
    actions: &mut Vec<UiAction>,
) {
    let view = &tab.view.plot;
    ui.horizontal_wrapped(|ui| {
        let add = ui.menu_button(t(S::PlotAdd), |ui| add_menu_ui(ui, tab, protocol, actions));
        let add = add.response.on_hover_text(t(S::TipPlotAdd));
        super::testhook::tag(ui, &add, "plot.add");
        ui.separator();
        ui.label(t(S::PlotX));
        let current = match view.x {
            XAxis::Time => t(S::PlotXTime).to_owned(),
            XAxis::Sample => t(S::PlotXSample).to_owned(),
            XAxis::Field(k) => view
                .set
                .plotted
                .get(k)
                .map(|p| label_of(protocol, p))
                .unwrap_or_default(),
        };
        egui::ComboBox::from_id_salt("plot-x")
            .selected_text(current)
            .show_ui(ui, |ui| {
                let mut x = view.x;
                ui.selectable_value(&mut x, XAxis::Time, t(S::PlotXTime));
                ui.selectable_value(&mut x, XAxis::Sample, t(S::PlotXSample));
                for (k, p) in view.set.plotted.iter().enumerate() {
                    ui.selectable_value(&mut x, XAxis::Field(k), label_of(protocol, p));
                }
                if x != view.x {
                    actions.push(UiAction::Plot(PlotAction::X(x)));
                }
            })
            .response
            .on_hover_text(t(S::TipPlotX));
        let mut stacked = view.stacked;
        let check = ui
            .checkbox(&mut stacked, t(S::PlotStacked))
            .on_hover_text(t(S::TipPlotStacked));
        super::testhook::tag(ui, &check, "plot.stacked");
        if check.changed() {
            actions.push(UiAction::Plot(PlotAction::Stacked(stacked)));
        }
        ui.separator();
        let pause = ui
            .selectable_label(view.paused_at.is_some(), t(S::PlotPause))
            .on_hover_text(t(S::TipPlotPause));
        super::testhook::tag(ui, &pause, "plot.pause");
        if pause.clicked() {
            actions.push(UiAction::Plot(PlotAction::Pause));
        }
        if ui
            .button(t(S::PlotResetView))
            .on_hover_text(t(S::TipPlotResetView))
            .clicked()
        {
            actions.push(UiAction::Plot(PlotAction::ResetView));
        }
        let export = ui
            .add_enabled(
                view.set.plotted.iter().any(|p| !p.series.is_empty()),
                egui::Button::new(t(S::PlotExport)),
            )
            .on_hover_text(t(S::TipPlotExport));
        if export.clicked() {
            actions.push(UiAction::AskFile(FileRequest::ExportPlot));
        }
    });
    ui.horizontal_wrapped(|ui| {
        for (k, p) in view.set.plotted.iter().enumerate() {
            let chip = ui
                .small_button(format!("{} ×", label_of(protocol, p)))
                .on_hover_text(t(S::TipPlotRemove));
            super::testhook::tag(ui, &chip, &format!("plot.remove.{k}"));
            if chip.clicked() {
                actions.push(UiAction::Plot(PlotAction::Remove(k)));
            }
        }
    });
}

/// Points, what the ring dropped, what the log's cap took, catching up, paused.
fn status_ui(ui: &mut egui::Ui, tab: &TabUi<'_>) {
    let view = &tab.view.plot;
    let points: usize = view.set.plotted.iter().map(|p| p.series.len()).sum();
    let dropped: u64 = view.set.plotted.iter().map(|p| p.series.dropped).sum();
    let mut parts = vec![tf(S::PlotPoints, &[&points])];
    if dropped > 0 {
        parts.push(tf(S::PlotDropped, &[&dropped, &SERIES_CAP]));
    }
    if view.set.lost > 0 {
        parts.push(tf(S::PlotLost, &[&view.set.lost]));
    }
    if view.behind > 0 {
        parts.push(tf(S::PlotCatchingUp, &[&view.behind]));
    }
    let text = parts.join(" · ");
    super::testhook::value(ui.ctx(), "plot.points", points as u64);
    super::testhook::value(ui.ctx(), "plot.behind", view.behind);
    if super::testhook::wanted() {
        let protocol = super::protocol_pick::chosen(tab.form);
        let labels: Vec<String> = view
            .set
            .plotted
            .iter()
            .map(|p| label_of(protocol.as_deref(), p))
            .collect();
        super::testhook::value(ui.ctx(), "plot.labels", labels.join(" | "));
    }
    if let Some(p) = view.set.plotted.first()
        && let Some(last) = p.series.last()
    {
        super::testhook::value(ui.ctx(), "plot.last", last.v);
    }
    ui.horizontal_wrapped(|ui| {
        ui.weak(text);
        if view.paused_at.is_some() {
            ui.label(RichText::new(t(S::PlotPaused)).strong());
        }
        if tab.form.protocol.trim().is_empty() {
            ui.label(RichText::new(t(S::PlotNoProtocol)).color(super::widgets::error_color(ui)));
        }
    });
}

/// Writes the series as CSV: time, sample, then a column per field; one line per message
/// (fields from the same message share a line). UTF-8 with a BOM, as the other CSV exports.
/// Returns the lines written.
fn export_csv(set: &SeriesSet, path: &Path) -> Result<u64, String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut out = std::io::BufWriter::new(file);
    let mut head = String::from(UTF8_BOM);
    head.push_str(t(S::CsvTime));
    head.push(',');
    head.push_str(t(S::PlotXSample));
    for p in &set.plotted {
        head.push(',');
        let name = match &p.unit {
            Some(unit) => format!("{} ({}) [{unit}]", p.label, p.pick.path),
            None => format!("{} ({})", p.label, p.pick.path),
        };
        head.push_str(&csv_cell(&name));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    // Merge the series by record (and by order within a record holding several frames).
    let mut iters: Vec<_> = set
        .plotted
        .iter()
        .map(|p| p.series.iter().peekable())
        .collect();
    let mut rows = 0u64;
    let mut line = String::new();
    while let Some(seq) = iters
        .iter_mut()
        .filter_map(|i| i.peek().map(|p| p.seq))
        .min()
    {
        let mut cells: Vec<Option<f64>> = Vec::with_capacity(iters.len());
        let mut at = None;
        for it in &mut iters {
            match it.next_if(|p| p.seq == seq) {
                Some(p) => {
                    at.get_or_insert((p.t, p.n));
                    cells.push(Some(p.v));
                }
                None => cells.push(None),
            }
        }
        let (t_secs, n) = at.unwrap_or((0.0, 0));
        line.clear();
        line.push_str(&timestamp(
            UNIX_EPOCH + Duration::from_secs_f64(t_secs.max(0.0)),
        ));
        line.push(',');
        line.push_str(&n.to_string());
        for cell in cells {
            line.push(',');
            if let Some(v) = cell {
                line.push_str(&v.to_string());
            }
        }
        line.push_str("\r\n");
        out.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
        rows += 1;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(rows)
}

/// A CSV cell, quoted when it must be.
fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Now, as the X axis counts time (for tests).
#[cfg(test)]
fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        clippy::float_cmp,
        reason = "tests (steps are exact)"
    )]
    use super::*;
    use sockscope_core::codec::TextEncoding;

    #[test]
    fn a_value_mark_shows_the_decimals_its_step_needs_and_no_minus_zero() {
        assert_eq!(value_label(4.5, 0.5), "4.5");
        assert_eq!(value_label(4.6, 0.2), "4.6");
        assert_eq!(value_label(220.0, 2.0), "220");
        assert_eq!(value_label(0.25, 0.05), "0.25");
        assert_eq!(value_label(-0.0, 1.0), "0");
        assert_eq!(value_label(-0.0001, 0.5), "0.0");
        assert_eq!(value_label(-3.0, 1.0), "-3");
    }

    #[test]
    fn the_clock_axis_shows_the_time_of_day() {
        let s = clock(now_secs());
        assert_eq!(s.matches(':').count(), 2, "{s}");
    }

    #[test]
    fn the_export_has_a_line_per_message_and_a_column_per_field() {
        let log = LogStore::new(usize::MAX, TextEncoding::default());
        let mut set = SeriesSet::new(10);
        for (path, label) in [("body.speed", "Speed"), ("body.alt", "Altitude")] {
            let pick = Pick {
                path: path.into(),
                node: None,
            };
            set.add(pick, label.into(), &log);
        }
        set.plotted[0].series.push(1.0e9, 5, 60.5);
        set.plotted[1].series.push(1.0e9, 5, 120.0);
        set.plotted[0].series.push(1.0e9 + 1.0, 6, 61.0);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plot.csv");
        assert_eq!(export_csv(&set, &path).unwrap(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].ends_with("Speed (body.speed),Altitude (body.alt)"),
            "{}",
            lines[0]
        );
        assert!(lines[1].ends_with(",1,60.5,120"), "{}", lines[1]);
        assert!(lines[2].ends_with(",2,61,"), "{}", lines[2]);
    }

    fn two_fields() -> SeriesSet {
        let log = LogStore::new(usize::MAX, TextEncoding::default());
        let mut set = SeriesSet::new(100);
        for path in ["a", "b"] {
            let pick = Pick {
                path: path.into(),
                node: None,
            };
            set.add(pick, path.into(), &log);
        }
        // `a` in records 1, 2, 3 and 5; `b` in 2, 3 and 4.
        for (seq, v) in [(1, 10.0), (2, 20.0), (3, 30.0), (5, 50.0)] {
            set.plotted[0].series.push(seq as f64, seq, v);
        }
        for (seq, v) in [(2, 2.0), (3, 3.0), (4, 4.0)] {
            set.plotted[1].series.push(seq as f64, seq, v);
        }
        set
    }

    #[test]
    fn a_pause_leaves_out_what_came_after_it() {
        let set = two_fields();
        let all = points_of(&set, 0, XAxis::Sample, None, None);
        assert_eq!(all, [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 50.0]]);
        let paused = points_of(&set, 0, XAxis::Time, Some(3), None);
        assert_eq!(paused, [[1.0, 10.0], [2.0, 20.0]]);
        assert_eq!(x_span(&set, XAxis::Time, Some(3)), Some((1.0, 2.0)));
        assert_eq!(x_span(&set, XAxis::Time, None), Some((1.0, 5.0)));
    }

    #[test]
    fn stacked_plots_following_live_show_every_fields_x_span() {
        // `b` first came late (records 40 to 60), under `a`'s minute (1 to 60): drawn, both
        // plots span the minute, not `b` its own 20 seconds.
        let log = LogStore::new(usize::MAX, TextEncoding::default());
        let mut view = PlotView::default();
        for path in ["a", "b"] {
            let pick = Pick {
                path: path.into(),
                node: None,
            };
            view.set.add(pick, path.into(), &log);
        }
        for seq in 1..=60u64 {
            view.set.plotted[0].series.push(seq as f64, seq, 1.0);
            if seq >= 40 {
                view.set.plotted[1].series.push(seq as f64, seq, 2.0);
            }
        }
        draw(&mut view);
        let [upper, lower] = view.shown_x[..] else {
            panic!("two plots: {:?}", view.shown_x);
        };
        assert!(upper.0 <= 1.0 && upper.1 >= 60.0, "{upper:?}");
        assert!(lower.0 <= 1.0 && lower.1 >= 60.0, "{lower:?}");
    }

    /// One headless frame of the plots (three, so the plot settles).
    fn draw(view: &mut PlotView) {
        let ctx = egui::Context::default();
        for _ in 0..3 {
            let input = egui::RawInput {
                screen_rect: Some(egui::Rect::from_min_size(
                    egui::Pos2::ZERO,
                    egui::vec2(800.0, 600.0),
                )),
                ..Default::default()
            };
            let mut out = ctx.run_ui(input, |ui| {
                egui::CentralPanel::default().show(ui, |ui| plots_ui(ui, view, None));
            });
            out.textures_delta.clear();
        }
    }

    #[test]
    fn x_as_a_field_never_in_the_same_message_says_so_over_the_empty_plot() {
        // DL/T 645's voltage and current are read apart: no message holds both.
        let log = LogStore::new(usize::MAX, TextEncoding::default());
        let mut view = PlotView::default();
        for path in ["voltage", "current"] {
            let pick = Pick {
                path: path.into(),
                node: None,
            };
            view.set.add(pick, path.into(), &log);
        }
        for seq in 1..=10u64 {
            let k = usize::from(seq % 2 == 0);
            view.set.plotted[k].series.push(seq as f64, seq, 1.0);
        }
        view.x = XAxis::Field(1);
        draw(&mut view);
        assert_eq!(
            view.unpaired,
            [
                "voltage never comes in a message with current: with X = another field, a point is one message's two values"
            ]
        );
        // Paired in one message: drawn, nothing said.
        view.set.plotted[0].series.push(11.0, 11, 2.0);
        view.set.plotted[1].series.push(11.0, 11, 3.0);
        draw(&mut view);
        assert!(view.unpaired.is_empty(), "{:?}", view.unpaired);
    }

    #[test]
    fn x_as_another_field_pairs_the_values_of_one_message() {
        let set = two_fields();
        let pairs = points_of(&set, 0, XAxis::Field(1), None, None);
        assert_eq!(pairs, [[2.0, 20.0], [3.0, 30.0]]);
    }

    #[test]
    fn value_marks_are_at_one_two_and_five_times_a_power_of_ten() {
        let marks = steps_125(GridInput {
            bounds: (214.0, 226.0),
            base_step_size: 0.9,
        });
        let at = |v: f64| {
            marks
                .iter()
                .find(|m| (m.value - v).abs() < 1e-9)
                .unwrap()
                .step_size
        };
        assert_eq!(marks.len(), 13);
        assert_eq!(at(220.0), 10.0);
        assert_eq!(at(225.0), 5.0);
        assert_eq!(at(222.0), 2.0);
        assert_eq!(at(221.0), 1.0);
    }
}
