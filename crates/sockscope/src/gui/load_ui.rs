//! The Load window (压力测试, Tools > Load generator): the generator of `sockscope bench` on a
//! thread of its own, its live counts read once a frame, a chart of requests and replies per
//! second and one of latency, and the report saved as CSV or JSON with the run's settings.
//!
//! The window keeps its place and size while a run starts and ends: Stop is drawn where
//! Start was, so a click there stops the run (the window used to grow and re-centre).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use eframe::egui::{self, RichText};
use egui_plot::{GridInput, GridMark, HoverPosition, Legend, Line, Plot, PlotPoints};
use sockscope_core::bench::{self, Mode, Progress, Report, Spec};
use sockscope_core::codec::hex;
use sockscope_core::i18n::{S, t, tf};
use sockscope_core::rules::{Cond, Match};

/// A run under way.
struct Running {
    stop: Arc<AtomicBool>,
    progress: Arc<Mutex<Progress>>,
    thread: Option<JoinHandle<Report>>,
}

/// What a ping-pong reply must hold (as `sockscope bench --expect*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplyKind {
    /// Any reply will do.
    #[default]
    Any,
    /// It contains this text.
    Text,
    /// It contains these bytes (hex, `??` for any byte).
    Hex,
    /// Its text matches this regular expression.
    Regex,
}

/// The Rate field (as typed, with what it is in requests per second when typed in bytes) and
/// the ramp beside it, a grid row; a rate that cannot be read is said in a row under it.
fn rate_row_ui(ui: &mut egui::Ui, view: &mut LoadView) {
    let label = ui.label(t(S::LoadRate)).id;
    // Units as typed, read by the core as `bench --rate` reads them (`2000/s`,
    // `1MB/s` ÷ the request's length), kept as typed: a rate in bytes per second
    // stays one when the request changes (it became requests per second at once,
    // so a longer request then ran 25 times faster).
    let read = bench::rate_limit_from_text(&view.rate, view.request_len());
    ui.horizontal(|ui| {
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut view.rate)
                    .desired_width(80.0)
                    .hint_text(t(S::LoadRateHint)),
            )
            .on_hover_text(t(S::TipLoadRate))
            .labelled_by(label);
        super::widgets::mark_bad_field(ui, &field, read.is_err());
        if let Ok(Some((per_second, true))) = read {
            ui.weak(tf(S::LoadRateIs, &[&format!("{per_second:.0}")]));
        }
        let label = ui.label(t(S::LoadRamp)).id;
        ui.add(
            egui::DragValue::new(&mut view.ramp_s)
                .range(0.0..=3600.0)
                .suffix(" s"),
        )
        .labelled_by(label);
    });
    ui.end_row();
    if let Err(why) = &read {
        // Under the Rate field (the fourth column).
        ui.label("");
        ui.label("");
        ui.label("");
        ui.add(egui::Label::new(RichText::new(why).color(super::widgets::error_color(ui))).wrap());
        ui.end_row();
    }
}

/// The window's fields and its run.
pub struct LoadView {
    /// The window is open.
    pub open: bool,
    /// `HOST:PORT` (or `udp://HOST:PORT`).
    pub target: String,
    /// UDP datagrams instead of TCP.
    pub udp: bool,
    /// What to wait for.
    pub mode: Mode,
    /// Connections at once.
    pub connections: u32,
    /// A new connection per request.
    pub per_request: bool,
    /// The rate as typed: requests per second (`2000`, `2000/s`) or bytes per second
    /// (`1MB/s`, read against the request's length when the run starts, so a rate in bytes
    /// stays one when the request changes); empty or 0: no limit.
    pub rate: String,
    /// Ramp, seconds.
    pub ramp_s: f32,
    /// Duration, seconds.
    pub duration_s: f32,
    /// Requests to send, 0: as many as the duration allows.
    pub count: u64,
    /// The request.
    pub payload: String,
    /// The request is hex.
    pub payload_hex: bool,
    /// Ping-pong: what the reply must hold.
    pub reply_kind: ReplyKind,
    /// Ping-pong: the text, hex or expression the reply is checked against.
    pub reply: String,
    /// Reply timeout, ms.
    pub timeout_ms: u32,
    /// tls:// and wss:// targets: take any certificate.
    pub any_cert: bool,
    /// tls:// and wss:// targets: how the certificate is checked when `any_cert` is off (the
    /// system's roots; a TLS server tab's own certificate, pinned; a TLS client tab's way).
    pub verify: sockscope_core::engine::Verify,
    /// The target `verify` was chosen for (a tab's own address): another target is checked
    /// against the system's roots.
    pub verify_for: String,
    running: Option<Running>,
    /// The last run's report.
    pub report: Option<Report>,
    /// What was wrong with the fields at Start.
    pub error: Option<String>,
}

impl Default for LoadView {
    fn default() -> Self {
        Self {
            open: false,
            target: "127.0.0.1:8080".into(),
            udp: false,
            mode: Mode::PingPong,
            connections: 1,
            per_request: false,
            rate: String::new(),
            ramp_s: 0.0,
            duration_s: 10.0,
            count: 0,
            payload: "ping".into(),
            payload_hex: false,
            reply_kind: ReplyKind::Any,
            reply: String::new(),
            timeout_ms: 1000,
            any_cert: false,
            verify: sockscope_core::engine::Verify::System,
            verify_for: String::new(),
            running: None,
            report: None,
            error: None,
        }
    }
}

impl LoadView {
    /// True while a run goes on.
    pub fn running(&self) -> bool {
        self.running.is_some()
    }

    /// The reply condition, compiled, and as the report's settings say it (as the CLI's
    /// `--expect*` options). Only ping-pong checks a condition.
    fn expect(&self) -> Result<(Option<sockscope_core::rules::cond::Matcher>, String), String> {
        let text = self.reply.trim();
        if self.mode != Mode::PingPong || text.is_empty() {
            return Ok((None, String::new()));
        }
        let (cond, said) = match self.reply_kind {
            ReplyKind::Any => return Ok((None, String::new())),
            ReplyKind::Text => (
                Cond::Text(Match::Contains, text.to_owned()),
                format!("--expect {text}"),
            ),
            ReplyKind::Hex => (
                Cond::Bytes(Match::Contains, text.to_owned()),
                format!("--expect-hex {text}"),
            ),
            ReplyKind::Regex => (
                Cond::Regex(text.to_owned()),
                format!("--expect-regex {text}"),
            ),
        };
        let matcher = cond
            .compile(sockscope_core::codec::TextEncoding::UTF_8)
            .map_err(|why| tf(S::LoadReplyBad, &[&why]))?;
        Ok((Some(matcher), said))
    }

    /// How the certificate is checked for the target as it is now: the tab's way for the
    /// tab's own address, else against the system's roots.
    fn verify_now(&self) -> sockscope_core::engine::Verify {
        if self.target.trim() == self.verify_for.trim() {
            self.verify.clone()
        } else {
            sockscope_core::engine::Verify::System
        }
    }

    /// The request's length in bytes, as the payload field reads (1 when it does not read).
    fn request_len(&self) -> usize {
        let bytes = if self.payload_hex {
            hex::parse(&self.payload).ok()
        } else {
            sockscope_core::codec::escape::parse(
                &self.payload,
                sockscope_core::codec::TextEncoding::UTF_8,
            )
            .ok()
        };
        bytes.map_or(1, |b| b.len().max(1))
    }

    /// The run the fields describe; the sentence says what is wrong (in the window's language).
    fn spec(&self) -> Result<Spec, String> {
        // The core reads the target as `sockscope bench` does (`udp://` chooses UDP too).
        let mut target = bench::target_from_text(&self.target)?;
        target.udp |= self.udp;
        if target.udp && (target.tls || target.ws.is_some()) {
            return Err(t(S::ErrTlsNeedsTcp).to_owned());
        }
        let tls = target.tls.then(|| sockscope_core::engine::TlsSettings {
            verify: if self.any_cert {
                sockscope_core::engine::Verify::Off
            } else {
                self.verify_now()
            },
            ..sockscope_core::engine::TlsSettings::default()
        });
        let payload = if self.payload_hex {
            hex::parse(&self.payload).map_err(|e| e.to_string())?
        } else {
            sockscope_core::codec::escape::parse(
                &self.payload,
                sockscope_core::codec::TextEncoding::UTF_8,
            )
            .map_err(|e| e.to_string())?
        };
        if payload.is_empty() {
            return Err(t(S::ErrRequestEmpty).to_owned());
        }
        let (expect, expect_text) = self.expect()?;
        let rate = bench::rate_limit_from_text(&self.rate, payload.len())?.map(|(r, _)| r);
        let mut spec = Spec {
            connections: self.connections.max(1) as usize,
            per_request: self.per_request,
            mode: self.mode,
            rate,
            ramp: Duration::from_secs_f32(self.ramp_s.max(0.0)),
            duration: Some(Duration::from_secs_f32(self.duration_s.max(0.1))),
            count: (self.count > 0).then_some(self.count),
            vary: if !self.payload_hex && self.payload.contains("{{") {
                Some(sockscope_core::rules::template::Template::compile(
                    &sockscope_core::rules::ReplySpec {
                        payload: self.payload.clone(),
                        mode: sockscope_core::codec::payload::InputMode::Escapes,
                        ..sockscope_core::rules::ReplySpec::default()
                    },
                    sockscope_core::codec::TextEncoding::UTF_8,
                )?)
            } else {
                None
            },
            payload,
            expect,
            expect_text,
            timeout: Duration::from_millis(u64::from(self.timeout_ms.max(1))),
            encoding: sockscope_core::codec::TextEncoding::UTF_8,
            // The saved settings show the request as typed (a template keeps its variables).
            request_text: self.payload.clone(),
            ..Spec::default()
        };
        target.apply(&mut spec, tls);
        Ok(spec)
    }

    /// Starts a run on its own thread.
    pub fn start(&mut self, ctx: &egui::Context) {
        let spec = match self.spec() {
            Ok(spec) => spec,
            Err(why) => {
                self.error = Some(why);
                return;
            }
        };
        self.error = None;
        let stop = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Mutex::new(Progress::default()));
        let (stop_in, progress_in, repaint) =
            (Arc::clone(&stop), Arc::clone(&progress), ctx.clone());
        // What the run says (the first failure's reason) in the window's language.
        let lang = sockscope_core::i18n::lang();
        let thread = std::thread::Builder::new()
            .name("sockscope-load".into())
            .spawn(move || {
                sockscope_core::i18n::set_lang(lang);
                let report = bench::run(&spec, &stop_in, Some(&progress_in));
                repaint.request_repaint();
                report
            });
        match thread {
            Ok(thread) => {
                self.report = None;
                self.running = Some(Running {
                    stop,
                    progress,
                    thread: Some(thread),
                });
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// Asks the run to stop (it ends within a poll round).
    pub fn stop(&self) {
        if let Some(running) = &self.running {
            running.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Takes the report of a run that ended.
    fn collect(&mut self) {
        let finished = self
            .running
            .as_ref()
            .and_then(|r| r.thread.as_ref())
            .is_some_and(JoinHandle::is_finished);
        if finished
            && let Some(mut running) = self.running.take()
            && let Some(thread) = running.thread.take()
        {
            self.report = thread.join().ok();
        }
    }

    /// Writes the last report as CSV (its settings and totals, then the timeline) or JSON
    /// (everything).
    pub fn save(&self, path: &std::path::Path, json: bool) -> Result<(), String> {
        let Some(report) = &self.report else {
            return Err(t(S::LoadNoReport).to_owned());
        };
        let text = if json {
            report.to_json()
        } else {
            // With a byte-order mark, as the log's CSV (Excel on a Chinese Windows).
            format!("{}{}", sockscope_core::capture::UTF8_BOM, report.to_csv())
        };
        std::fs::write(path, text).map_err(|e| tf(S::CliCannotWrite, &[&path.display(), &e]))
    }
}

/// What the window asks the app for.
pub enum LoadAsk {
    /// A path to save the report to (true: JSON).
    Save(bool),
}

/// The colours of sent (a filled area) and received (a line over it): apart from each other
/// and from failed, which is the error colour.
const SENT: egui::Color32 = egui::Color32::from_rgb(90, 140, 230);
const RECEIVED: egui::Color32 = egui::Color32::from_rgb(80, 200, 120);

/// `1 µs`, `10 ms`, `1 s`: a latency in microseconds as it reads best.
fn latency_text(us: f64) -> String {
    if us >= 1e6 {
        format!("{} s", us / 1e6)
    } else if us >= 1e3 {
        format!("{} ms", us / 1e3)
    } else {
        format!("{us} µs")
    }
}

/// The label of a log10 latency axis line at `value`: 1, 2 and 5 of each decade are
/// labelled, the other lines are not, and nothing below 1 µs (an empty chart's default range
/// read "1 µs, 1 µs, 0 µs": 0.5 and 0.2 rounded).
fn latency_axis_label(value: f64) -> String {
    let leading = 10f64.powf(value - value.floor());
    if value >= -1e-9
        && [1.0, 2.0, 5.0, 10.0]
            .iter()
            .any(|k| (leading - k).abs() < 1e-6)
    {
        latency_text(10f64.powf(value).round())
    } else {
        String::new()
    }
}

/// Grid marks of a log10 axis: every power of ten, and 2 … 9 times it while few decades show.
#[expect(
    clippy::needless_pass_by_value,
    reason = "egui_plot's grid spacer takes its input by value"
)]
fn log_marks(input: GridInput) -> Vec<GridMark> {
    let (low, high) = input.bounds;
    if !(low.is_finite() && high.is_finite()) || high <= low {
        return Vec::new();
    }
    let mut marks = Vec::new();
    let fine = high - low < 4.0;
    let mut decade = low.floor();
    while decade <= high && marks.len() < 200 {
        marks.push(GridMark {
            value: decade,
            step_size: 1.0,
        });
        if fine {
            for k in 2..=9 {
                // 2 and 5 are labelled: a wider step makes egui_plot keep their labels.
                marks.push(GridMark {
                    value: decade + f64::from(k).log10(),
                    step_size: if k == 2 || k == 5 { 0.3 } else { 0.1 },
                });
            }
        }
        decade += 1.0;
    }
    // Only marks inside the plot: one outside is drawn outside it.
    marks.retain(|m| (low..=high).contains(&m.value));
    marks
}

/// The seconds axis of the charts: from 0 over the whole run, at least one second (a 0.03 s
/// run's single point made egui_plot span −200 … 200).
fn seconds_axis(timeline: &[bench::Second]) -> (f64, f64) {
    let last = timeline.last().map_or(0.0, |s| s.at as f64);
    (0.0, last.max(1.0))
}

/// The charts of a run: requests per second (sent as a filled area under the replies, so
/// equal counts still show both), and latency on a log scale (p50 stays readable beside a
/// p99 a hundred times larger). Titles sit above the charts, so no label is turned sideways.
fn timeline_chart(ui: &mut egui::Ui, timeline: &[bench::Second]) {
    let series = |f: fn(&bench::Second) -> f64| -> Vec<[f64; 2]> {
        timeline.iter().map(|s| [s.at as f64, f(s)]).collect()
    };
    let sent = series(|s| s.sent as f64);
    let received = series(|s| s.received as f64);
    let failed = series(|s| s.failed as f64);
    // Seconds without replies have no latency: no point rather than a fall to zero.
    let log = |f: fn(&bench::Second) -> f64| -> Vec<[f64; 2]> {
        timeline
            .iter()
            .filter(|s| f(s) > 0.0)
            .map(|s| [s.at as f64, f(s).log10()])
            .collect()
    };
    let (p50, p95, p99) = (log(|s| s.p50_us), log(|s| s.p95_us), log(|s| s.p99_us));
    let error = ui.visuals().error_fg_color;
    let (from, to) = seconds_axis(timeline);
    ui.columns(2, |cols| {
        if let [left, right] = cols {
            left.label(RichText::new(t(S::LoadRateTitle)).small());
            Plot::new("load_rate")
                .height(170.0)
                .legend(Legend::default())
                .include_y(0.0)
                .include_x(from)
                .include_x(to)
                .allow_scroll(false)
                .show(left, |plot| {
                    plot.line(
                        Line::new(t(S::LoadSent), PlotPoints::from(sent))
                            .color(SENT)
                            .width(3.0)
                            .fill(0.0)
                            .fill_alpha(0.25),
                    );
                    plot.line(
                        Line::new(t(S::LoadReceived), PlotPoints::from(received))
                            .color(RECEIVED)
                            .width(1.5),
                    );
                    plot.line(
                        Line::new(t(S::LoadFailed), PlotPoints::from(failed))
                            .width(1.5)
                            .color(error),
                    );
                });
            right.label(RichText::new(t(S::LoadLatencyTitle)).small());
            Plot::new("load_latency")
                .height(170.0)
                .legend(Legend::default())
                .include_x(from)
                .include_x(to)
                .allow_scroll(false)
                .y_grid_spacer(log_marks)
                .y_axis_formatter(|mark, _| latency_axis_label(mark.value))
                .label_formatter(|hover| {
                    let (name, at) = match hover {
                        HoverPosition::NearDataPoint {
                            plot_name,
                            position,
                            ..
                        } => (*plot_name, position),
                        HoverPosition::Elsewhere { position } => ("", position),
                    };
                    Some(format!(
                        "{name} {:.0} s: {}",
                        at.x,
                        latency_text((10f64.powf(at.y) * 10.0).round() / 10.0)
                    ))
                })
                .show(right, |plot| {
                    plot.line(Line::new("p50", PlotPoints::from(p50)));
                    plot.line(Line::new("p95", PlotPoints::from(p95)));
                    plot.line(Line::new("p99", PlotPoints::from(p99)));
                });
        }
    });
}

fn fields_ui(ui: &mut egui::Ui, view: &mut LoadView) {
    let running = view.running();
    ui.add_enabled_ui(!running, |ui| {
        egui::Grid::new("load_fields")
            .num_columns(4)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                let label = ui.label(t(S::LoadTarget)).id;
                ui.horizontal(|ui| {
                    let field = ui
                        .add(egui::TextEdit::singleline(&mut view.target).desired_width(170.0))
                        .labelled_by(label)
                        .on_hover_text(t(S::TipLoadTarget));
                    super::testhook::tag(ui, &field, "load.target");
                    ui.selectable_value(&mut view.udp, false, "TCP");
                    ui.selectable_value(&mut view.udp, true, "UDP");
                });
                ui.label(t(S::LoadMode));
                ui.horizontal(|ui| {
                    for (mode, label, tag) in [
                        (Mode::Throughput, S::LoadThroughput, "load.mode.throughput"),
                        (Mode::PingPong, S::LoadPingPong, "load.mode.ping-pong"),
                        (Mode::Echo, S::LoadEcho, "load.mode.echo"),
                    ] {
                        let button = ui.selectable_value(&mut view.mode, mode, t(label));
                        super::testhook::tag(ui, &button, tag);
                    }
                });
                ui.end_row();
                let label = ui.label(t(S::LoadConnections)).id;
                ui.horizontal(|ui| {
                    ui.add(egui::DragValue::new(&mut view.connections).range(1..=100_000))
                        .labelled_by(label);
                    ui.checkbox(&mut view.per_request, t(S::LoadPerRequest))
                        .on_hover_text(t(S::TipLoadPerRequest));
                });
                rate_row_ui(ui, view);
                let label = ui.label(t(S::LoadDuration)).id;
                ui.add(
                    egui::DragValue::new(&mut view.duration_s)
                        .range(0.1..=86_400.0)
                        .suffix(" s"),
                )
                .labelled_by(label);
                let label = ui.label(t(S::LoadCount)).id;
                ui.add(egui::DragValue::new(&mut view.count).range(0..=u64::MAX))
                    .on_hover_text(t(S::TipLoadCount))
                    .labelled_by(label);
                ui.end_row();
                let label = ui.label(t(S::LoadRequest)).id;
                ui.horizontal(|ui| {
                    let field = ui
                        .add(
                            egui::TextEdit::singleline(&mut view.payload)
                                .font(egui::TextStyle::Monospace)
                                .desired_width(170.0),
                        )
                        .labelled_by(label);
                    super::testhook::tag(ui, &field, "load.payload");
                    ui.selectable_value(&mut view.payload_hex, false, t(S::Text));
                    ui.selectable_value(&mut view.payload_hex, true, t(S::Hex));
                });
                let label = ui.label(t(S::LoadTimeout)).id;
                ui.add(
                    egui::DragValue::new(&mut view.timeout_ms)
                        .range(1..=600_000)
                        .suffix(" ms"),
                )
                .labelled_by(label);
                ui.end_row();
            });
        // Its own row below the grid: in a grid cell the text field got what the column had
        // left (about 15 px, "ping" showed as "g").
        reply_ui(ui, view);
        certificate_ui(ui, view);
    });
}

/// How a tls:// or wss:// target's certificate is checked: shown only for those targets.
fn certificate_ui(ui: &mut egui::Ui, view: &mut LoadView) {
    let scheme = view.target.trim_start().to_ascii_lowercase();
    let tls = scheme.starts_with("tls://") || scheme.starts_with("wss://");
    // The row is there for every target (greyed out without TLS): Start stays where it is
    // when the target changes.
    ui.horizontal(|ui| {
        let check = ui
            .add_enabled(
                tls,
                egui::Checkbox::new(&mut view.any_cert, t(S::LoadAnyCert)),
            )
            .on_hover_text(t(S::TipLoadAnyCert))
            .on_disabled_hover_text(t(S::TipLoadAnyCert));
        super::testhook::tag(ui, &check, "load.any-cert");
        if let sockscope_core::engine::Verify::Pin(sha256) = &view.verify_now()
            && !view.any_cert
            && tls
        {
            let short: String = sha256.chars().take(23).collect();
            ui.weak(tf(S::LoadPinned, &[&format!("{short}…")]))
                .on_hover_text(sha256.as_str());
        }
    });
}

/// Ping-pong's reply condition: any reply, or one holding a text, bytes or a match.
fn reply_ui(ui: &mut egui::Ui, view: &mut LoadView) {
    ui.horizontal(|ui| {
        let label = ui.label(t(S::LoadReply)).id;
        ui.add_enabled_ui(view.mode == Mode::PingPong, |ui| {
            for (kind, word, tag) in [
                (ReplyKind::Any, S::LoadReplyAny, "load.reply.any"),
                (ReplyKind::Text, S::LoadReplyText, "load.reply.text"),
                (ReplyKind::Hex, S::LoadReplyHex, "load.reply.hex"),
                (ReplyKind::Regex, S::LoadReplyRegex, "load.reply.regex"),
            ] {
                let button = ui.selectable_value(&mut view.reply_kind, kind, t(word));
                super::testhook::tag(ui, &button, tag);
            }
            if view.reply_kind != ReplyKind::Any {
                // The rest of the row (never wider than the window already is).
                let field = ui
                    .add(
                        egui::TextEdit::singleline(&mut view.reply)
                            .font(egui::TextStyle::Monospace)
                            .desired_width(ui.available_width().max(120.0)),
                    )
                    .labelled_by(label);
                super::testhook::tag(ui, &field, "load.reply");
            }
        })
        .response
        .on_hover_text(t(S::TipLoadReply))
        .on_disabled_hover_text(t(S::TipLoadReplyPingPong));
    });
}

/// Start or Stop, one button of one size in one place; Save CSV… and Save JSON… beside it.
fn buttons_ui(ui: &mut egui::Ui, view: &mut LoadView, ask: &mut Option<LoadAsk>) {
    ui.horizontal(|ui| {
        // The wider of the two words, so Stop covers Start exactly.
        let width = [S::LoadStart, S::LoadStop]
            .iter()
            .map(|w| {
                ui.fonts_mut(|f| {
                    f.layout_no_wrap(
                        t(*w).to_owned(),
                        egui::TextStyle::Button.resolve(ui.style()),
                        egui::Color32::WHITE,
                    )
                    .size()
                    .x
                })
            })
            .fold(0.0, f32::max)
            + 2.0 * ui.spacing().button_padding.x;
        let size = egui::vec2(width, 0.0);
        if view.running() {
            let stop = ui.add(egui::Button::new(t(S::LoadStop)).min_size(size));
            super::testhook::tag(ui, &stop, "load.stop");
            if stop.clicked() {
                view.stop();
            }
        } else {
            let start = ui.add(egui::Button::new(t(S::LoadStart)).min_size(size));
            super::testhook::tag(ui, &start, "load.start");
            if start.clicked() {
                view.start(ui.ctx());
            }
        }
        ui.add_enabled_ui(view.report.is_some(), |ui| {
            if ui.button(t(S::LoadSaveCsv)).clicked() {
                *ask = Some(LoadAsk::Save(false));
            }
            if ui.button(t(S::LoadSaveJson)).clicked() {
                *ask = Some(LoadAsk::Save(true));
            }
        });
    });
}

/// The live counts, or the last report, and the charts: below the buttons, in a region that
/// scrolls rather than resizes the window.
fn results_ui(ui: &mut egui::Ui, view: &LoadView) {
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if let Some(running) = &view.running {
                let progress = running
                    .progress
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone();
                let line = ui.label(tf(
                    S::LoadLive,
                    &[
                        &format!("{:.1}", progress.elapsed.as_secs_f64()),
                        &progress.sent,
                        &progress.received,
                        &progress.failed,
                        &progress.in_flight,
                        &format!("{:.0}", progress.p50_us),
                        &format!("{:.0}", progress.p99_us),
                    ],
                ));
                super::testhook::tag(ui, &line, "load.live");
                timeline_chart(ui, &progress.timeline);
                // The counts change at most ten times a second.
                ui.ctx().request_repaint_after(Duration::from_millis(100));
            } else if let Some(report) = &view.report {
                let summary = ui.label(RichText::new(report.summary()).monospace());
                super::testhook::tag(ui, &summary, "load.summary");
                timeline_chart(ui, &report.timeline);
            }
        });
}

/// The Load window, when open. Returns what it asks of the app (a file to save to).
pub fn load_window(ctx: &egui::Context, view: &mut LoadView) -> Option<LoadAsk> {
    view.collect();
    if !view.open {
        return None;
    }
    let mut ask = None;
    let mut open = true;
    let size = egui::vec2(780.0, 560.0);
    // Anchored by its top-left corner, on screen even at 1024×640: a run that fills in the
    // counts never moves what is under the pointer.
    let screen = ctx.content_rect();
    let corner = (screen.center() - size / 2.0).max(screen.min + egui::vec2(8.0, 8.0));
    egui::Window::new(t(S::LoadTitle))
        .id(egui::Id::unique("load_window"))
        .open(&mut open)
        .pivot(egui::Align2::LEFT_TOP)
        .default_pos(corner)
        .default_size(size)
        .show(ctx, |ui| {
            fields_ui(ui, view);
            buttons_ui(ui, view, &mut ask);
            // Always a line here, empty or not, so nothing below moves when one is said.
            let error = view.error.as_deref().unwrap_or("");
            let said = ui.add(
                egui::Label::new(RichText::new(error).color(ui.visuals().error_fg_color)).wrap(),
            );
            if !error.is_empty() {
                super::testhook::tag(ui, &said, "load.error");
            }
            ui.separator();
            results_ui(ui, view);
        });
    if !open {
        view.stop();
        view.open = false;
    }
    ask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_lines_below_a_microsecond_are_not_labelled() {
        assert_eq!(latency_axis_label(0.0), "1 µs");
        assert_eq!(latency_axis_label(2f64.log10()), "2 µs");
        assert_eq!(latency_axis_label(3f64.log10()), "");
        assert_eq!(latency_axis_label(3.0), "1 ms");
        assert_eq!(latency_axis_label(0.5f64.log10()), "");
        assert_eq!(latency_axis_label(0.2f64.log10()), "");
    }

    #[test]
    fn the_charts_seconds_start_at_zero_and_span_the_run() {
        let second = |at| bench::Second {
            at,
            ..bench::Second::default()
        };
        // A 0.03 s run has one second: it spanned −200 … 200.
        assert_eq!(seconds_axis(&[second(0)]), (0.0, 1.0));
        assert_eq!(seconds_axis(&[]), (0.0, 1.0));
        assert_eq!(
            seconds_axis(&(0..30).map(second).collect::<Vec<_>>()),
            (0.0, 29.0)
        );
    }
}
