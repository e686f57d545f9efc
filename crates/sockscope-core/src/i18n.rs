//! Every user-facing string, in English and 简体中文, in one table: the window's labels and
//! the sentences of errors and events from every layer (their `Display` reads this table).
//!
//! Callers use [`t`] with a key (or [`tf`] for strings with `{}` slots). The language is per
//! thread — the UI thread formats everything the user sees, and each test harness has its
//! own — and is switched live from the View menu. Pure data: no egui here.

use std::cell::Cell;
use std::fmt::Display;

use serde::{Deserialize, Serialize};

/// A language of the window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// Both, in menu order.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// Its own name (a language is offered in itself).
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "简体中文",
        }
    }

    /// The language of an OS locale tag (`zh-CN`, `zh_TW.UTF-8`, `en-US`): Chinese for any
    /// `zh`, English otherwise.
    pub fn from_locale(tag: &str) -> Lang {
        let tag = tag.to_ascii_lowercase().replace('_', "-");
        // Traditional Chinese (Taiwan, Hong Kong, Macao, zh-Hant) gets English: the strings
        // are Simplified only.
        let traditional = ["zh-tw", "zh-hk", "zh-mo", "zh-hant"]
            .iter()
            .any(|t| tag.starts_with(t));
        if tag.starts_with("zh") && !traditional {
            Lang::Zh
        } else {
            Lang::En
        }
    }
}

thread_local! {
    static LANG: Cell<Lang> = const { Cell::new(Lang::En) };
}

/// Switches this thread's UI to `lang`.
pub fn set_lang(lang: Lang) {
    LANG.with(|l| l.set(lang));
}

/// This thread's UI language.
pub fn lang() -> Lang {
    LANG.with(Cell::get)
}

/// The text of `key` in the current language.
pub fn t(key: S) -> &'static str {
    match lang() {
        Lang::En => key.en(),
        Lang::Zh => key.zh(),
    }
}

/// The text of `key` with each `{}` replaced by the next argument, and each `{N}` by argument
/// `N` (so a translation can put them in another order). Other braces are kept as they are.
pub fn tf(key: S, args: &[&dyn Display]) -> String {
    let template = t(key);
    let mut out = String::with_capacity(template.len() + 16);
    let mut next = 0;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let (before, from) = rest.split_at(open);
        out.push_str(before);
        let slot = from
            .get(1..)
            .and_then(|s| s.find('}').map(|close| (s, close)))
            .and_then(|(s, close)| {
                let inside = s.get(..close)?;
                match inside {
                    "" => Some((None, close)),
                    digits if digits.len() <= 2 && digits.bytes().all(|b| b.is_ascii_digit()) => {
                        digits.parse::<usize>().ok().map(|n| (Some(n), close))
                    }
                    _ => None,
                }
            });
        match slot {
            Some((index, close)) => {
                let n = index.unwrap_or_else(|| {
                    next += 1;
                    next - 1
                });
                if let Some(arg) = args.get(n) {
                    out.push_str(&arg.to_string());
                }
                rest = from.get(close + 2..).unwrap_or_default();
            }
            None => {
                out.push('{');
                rest = from.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

/// An I/O error said in Chinese where std gives a kind it names (a file not found,
/// permission denied); else (and in English) as std says it.
pub fn io_error(e: &std::io::Error) -> String {
    if lang() == Lang::En {
        return e.to_string();
    }
    match e.kind() {
        std::io::ErrorKind::NotFound => t(S::IoNotFound).to_owned(),
        std::io::ErrorKind::PermissionDenied => t(S::IoPermissionDenied).to_owned(),
        _ => e.to_string(),
    }
}

/// How many arguments a template takes (`{}` slots, or the highest `{N}` + 1).
pub fn slot_count(template: &str) -> usize {
    let plain = template.matches("{}").count();
    let numbered = (0..10)
        .filter(|n| template.contains(&format!("{{{n}}}")))
        .map(|n| n + 1)
        .max()
        .unwrap_or(0);
    plain.max(numbered)
}

macro_rules! strings {
    ($($key:ident => $en:literal, $zh:literal;)*) => {
        /// A user-facing string: its key in the table.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs, reason = "each key is its English text")]
        pub enum S { $($key,)* }

        impl S {
            /// Every key, in table order.
            pub const ALL: &[S] = &[$(S::$key,)*];

            /// The English text.
            pub fn en(self) -> &'static str {
                match self { $(S::$key => $en,)* }
            }

            /// The Chinese text.
            pub fn zh(self) -> &'static str {
                match self { $(S::$key => $zh,)* }
            }
        }
    };
}

strings! {
    // Modes and the open button.
    ModeTcpClient => "TCP Client", "TCP 客户端";
    ModeTcpServer => "TCP Server", "TCP 服务器";
    ModeUdp => "UDP", "UDP";
    ModeRelay => "Relay", "转发";
    ErrImpairment => "'{}' is not an impairment: write latency=20ms, jitter=5ms, drop=5%, rate=100KB/s or cut=4096", "“{}”不是劣化设置：请写 latency=20ms、jitter=5ms、drop=5%、rate=100KB/s 或 cut=4096";
    ErrImpairmentValue => "'{}' is not an impairment: {}", "“{}”不是劣化设置：{}";
    ErrDurationText => "'{}' is not a duration: write 20ms, 1.5s or 20 (ms)", "“{}”不是时长：请写 20ms、1.5s 或 20（毫秒）";
    ErrDurationRange => "'{}' is out of range: write {} to {}", "“{}”超出范围：请写 {} 到 {}";
    TipDuration => "A bare number is milliseconds; or with a unit: 500ms, 3s, 1.5 s, 2 min", "纯数字为毫秒；也可带单位：500ms、3s、1.5 s、2 min";
    ErrPercentText => "'{}' is not a share: write 0 to 100, e.g. 5%", "“{}”不是比例：请写 0 到 100，例如 5%";
    ErrRateText => "'{}' is not a rate: write 64KiB/s, 2MB/s, 8Mbit/s, 100000 (bytes/s) or 0 for no cap", "“{}”不是速率：请写 64KiB/s、2MB/s、8Mbit/s、100000（字节/秒），0 表示不限";
    ErrSizeText => "'{}' is not a size: write 4096, 4KiB or 1MB; 0 = never", "“{}”不是大小：请写 4096、4KiB 或 1MB；0 表示不切断";
    ImpLatency => "latency {}", "延迟 {}";
    ImpJitter => "jitter ±{}", "抖动 ±{}";
    ImpDrop => "drop {}", "丢包 {}";
    ImpRate => "rate cap {}", "限速 {}";
    ImpCut => "cut after {}", "{} 后切断";
    ImpNone => "none", "无";
    ListSeparator => ", ", "，";
    TipModeRelay => "Listen, and relay every client to the upstream (the remote address) through a link you can make worse: latency, jitter, drops, a bandwidth cap, a cut", "监听，并把每个客户端转发到上游（远程地址），链路可人为劣化：延迟、抖动、丢包、限速、切断";
    TipPortRelay => "Port the relay listens on; clients connect here", "转发监听的端口；客户端连接这里";
    StartRelay => "Start", "启动";
    TipStartRelay => "Listen, and relay every client that connects to the upstream", "开始监听，并把每个连接的客户端转发到上游";
    TipStopReconnecting => "Stop trying to connect again", "停止自动重连";
    RelayTransport => "Transport", "传输协议";
    RelayUp => "client → upstream", "客户端 → 上游";
    RelayDown => "upstream → client", "上游 → 客户端";
    RelayLatency => "Latency", "延迟";
    RelayJitter => "Jitter ±", "抖动 ±";
    RelayDrop => "Drop", "丢包";
    RelayRate => "Rate cap", "限速";
    RelayCutAfter => "Cut after", "切断于";
    TipRelayLatency => "Added to every message of this direction: 50ms, 1.5s; empty = none", "此方向每条消息增加的延迟：50ms、1.5s；留空表示无";
    TipRelayJitter => "Up to this much more or less, at random (TCP keeps the order): 5ms; empty = none", "随机增减至多这么多（TCP 保持顺序）：5ms；留空表示无";
    TipRelayDrop => "Datagrams thrown away at random (UDP; a TCP stream cannot lose bytes)", "随机丢弃的数据报比例（UDP；TCP 字节流不会丢字节）";
    TipRelayRate => "At most this much per second: 64KiB/s, 2MB/s, 8Mbit/s; empty = no cap. A sender faster than the cap is slowed, as by a slow link", "每秒至多这么多：64KiB/s、2MB/s、8Mbit/s；留空表示不限。比限速快的发送方会被放慢，如同慢速链路";
    TipRelayCut => "Cut the pair once this much went this way, as a pulled cable: 4096, 4KiB, 1MB; empty = never", "此方向累计这么多后切断该对连接，如同拔线：4096、4KiB、1MB；留空表示不切断";
    CutAll => "Cut all pairs", "切断所有连接";
    TipCutAll => "Close every client and its upstream now, as a pulled cable would", "立即关闭每个客户端及其上游，如同拔线";
    UpstreamIp => "Upstream IP", "上游 IP";
    UpstreamPort => "Upstream port", "上游端口";
    UpstreamMark => "upstream of {}", "{} 的上游";
    TipModeClient => "Connect to a device or server (TCP)", "作为客户端连接设备或服务器 (TCP)";
    TipModeServer => "Listen and let devices connect (TCP)", "监听端口，等待设备连接 (TCP)";
    TipModeUdp => "Send and receive UDP datagrams", "收发 UDP 数据报";
    Connect => "Connect", "连接";
    Disconnect => "Disconnect", "断开";
    Listen => "Listen", "监听";
    Stop => "Stop", "停止";
    Open => "Open", "打开";
    Close => "Close", "关闭";
    TipConnect => "Connect to the remote address", "连接到远程地址";
    TipDisconnect => "Close the connection (also cancels a connect in progress)", "断开连接（也可取消正在进行的连接）";
    TipListen => "Start accepting clients on the local address", "在本地地址上开始接受客户端连接";
    TipStop => "Stop accepting clients", "停止接受客户端";
    TipOpen => "Bind the UDP socket", "绑定 UDP 套接字";
    TipClose => "Close the UDP socket", "关闭 UDP 套接字";

    // Network group.
    Network => "Network", "网络设置";
    LocalIp => "Local IP", "本地 IP";
    LocalPort => "Local port", "本地端口";
    RemoteIp => "Remote IP", "远程 IP";
    RemotePort => "Remote port", "远程端口";
    Timeout => "Timeout", "超时";
    TipLocalIp => "Address of this machine to use: 0.0.0.0 or :: means all interfaces", "使用本机的哪个地址：0.0.0.0 或 :: 表示所有网卡";
    AllInterfaces => "{}  (all interfaces)", "{}  （所有网卡）";
    TipPickAddress => "Pick an address of this machine", "选择本机地址";
    TipPortClient => "Local port to connect from; 0 lets the system choose", "连接时使用的本地端口；0 由系统选择";
    TipPortServer => "Port to listen on; 0 picks a free one", "监听端口；0 自动选择空闲端口";
    TipPortUdp => "Port to receive on; 0 picks a free one", "接收端口；0 自动选择空闲端口";
    TipRemoteUdp => "Where datagrams go unless a peer is picked below", "数据报的默认目标（除非在下方选中某个对端）";
    TipRemoteClient => "The device or server to connect to", "要连接的设备或服务器";
    TipTimeout => "Give up a connect that gets no answer after this long", "连接无应答超过此时长即放弃";
    StopClosesClients => "Stop also disconnects clients", "停止时断开所有客户端";
    TipStopClosesClients => "Off: clients connected before Stop stay connected", "不勾选：停止监听后，已连接的客户端保持连接";

    // Client and peer lists.
    ClientsN => "Clients ({})", "客户端 ({})";
    AllClients => "All clients", "所有客户端";
    TipAllClients => "Send to every connected client", "发送给所有已连接的客户端";
    NoClient => "No client connected", "暂无客户端连接";
    PeersN => "Peers ({})", "对端 ({})";
    PeersNForgotten => "Peers ({}; {} quiet ones forgotten)", "对端 ({}；已忘记 {} 个久未发送的)";
    TipPeersForgotten => "At most {} peers are kept: when more send, those quiet longest are forgotten (they come back when they send again).", "最多保留 {} 个对端：更多对端发送时，忘记最久未发送的（再次发送时重新出现）。";
    RemoteAddress => "Remote address", "远程地址";
    TipRemoteAddress => "Send to the remote IP and port above", "发送到上面的远程 IP 和端口";
    NoDatagram => "No datagram yet", "尚未收到数据报";
    TipSendToClient => "Send to this client only", "只发送给此客户端";
    TipReplyToPeer => "Reply to this peer", "回复此对端";
    DisconnectPeer => "Disconnect {}", "断开 {}";

    // Receive group.
    Receive => "Receive", "接收设置";
    Text => "Text", "文本";
    Hex => "Hex", "十六进制";
    TipRxText => "Show data as text in the encoding below", "按下方的编码以文本显示";
    TipRxHex => "Show data as hex bytes: 48 65 6C", "以十六进制字节显示：48 65 6C";
    Encoding => "Encoding", "编码";
    TipEncoding => "Used to show received text and to encode text you send", "用于显示接收的文本，也用于编码发送的文本";
    ShowTime => "Show time", "显示时间";
    TipShowTime => "A timestamp (ms) on each row", "每行显示时间戳（毫秒）";
    AutoScroll => "Auto-scroll", "自动滚动";
    TipAutoScroll => "Keep the newest row in view", "始终显示最新一行";
    Verify => "Verify", "校验";
    TipVerify => "Check this trailer at the end of every received record: √ good, × bad", "检查每条接收记录末尾的校验位：√ 正确，× 错误";

    // Framing.
    Framing => "Framing", "分帧";
    TipFraming => "How a TCP stream is split into messages (粘包/拆包); UDP datagrams are messages already", "如何把 TCP 字节流切分成消息（粘包/拆包）；UDP 数据报本身就是消息";
    FrameNone => "None (per read)", "不分帧（每次读取一条）";
    FrameDelimiter => "Delimiter", "分隔符";
    FrameLines => "Lines (CR, LF or CRLF)", "按行（CR、LF 或 CRLF）";
    FrameFixed => "Fixed length", "固定长度";
    FrameLength => "Length prefix", "长度前缀";
    FrameIdle => "Idle gap", "空闲间隔";
    EndsWith => "Ends with", "结束符";
    TipDelimiter => "Text with escapes (\\r\\n) or hex (7E)", "带转义的文本 (\\r\\n) 或十六进制 (7E)";
    HexSmall => "hex", "十六进制";
    Keep => "keep", "保留";
    Length => "Length", "长度";
    Silence => "Silence", "静默";
    TipSilence => "A message ends when nothing arrives for this long (timed by the I/O thread)", "超过此时长没有新数据即结束一条消息（由 I/O 线程计时）";
    After => "After", "之前有";
    HeaderBytes => " header bytes", " 字节报头";
    TipHeaderOffset => "Bytes before the length field, e.g. a start byte", "长度字段之前的字节，如起始字节";
    RawBesideFrames => "Raw reads beside frames", "并排显示原始读取";
    TipRawBeside => "Each read as it arrived, next to the messages framing made of them: this is 粘包/拆包 (reads are kept from when this is ticked)", "每次读取的原始数据与分帧后的消息并排显示：这就是粘包/拆包（从勾选时起保留原始读取）";

    // Log view.
    EmptyLog => "Nothing yet. Pick a mode, then Connect / Listen / Open.", "还没有数据。选择模式，然后点击 连接 / 监听 / 打开。";
    ChartDeparted => "{} (left)", "{}（已断开）";
    TipQuickNeedsPayload => "Type what to send first: a quick command is the send box saved under a name", "请先输入要发送的内容：快捷指令就是以名字保存的发送框内容";
    HintDirectedBroadcast => ". 255.255.255.255 leaves by the default route, and there is none: send to an interface's directed broadcast (such as 192.168.1.255) from the ▼ beside Remote IP", "。255.255.255.255 需经默认路由发出，而本机没有默认路由：请改用某个网卡的定向广播地址（如 192.168.1.255，可在远程 IP 旁的 ▼ 中选择）";
    LogOptions => "Options ▼", "选项 ▼";
    FieldError => "{}: {}", "{}：{}";
    FirstOfErrors => "{} (and {} more)", "{}（另有 {} 处）";
    FixFieldsFirst => "Fix first:\n{}", "请先修正：\n{}";
    EmptyLogOpen => "{} — waiting for data.", "{} — 等待数据。";
    Frames => "Frames", "帧";
    RawReads => "Raw reads, as they arrived", "原始读取（按到达顺序）";
    Pause => "Pause", "暂停";
    ResumeN => "Resume ({} new)", "继续（{} 条新）";
    TipPause => "Freeze the display; receiving and logging go on", "冻结显示；接收和记录照常进行";
    FollowEnd => "↓ Follow (End)", "↓ 跟随最新（End）";
    TipFollowEnd => "Not following the newest rows: you picked a row, so it stays in view while data keeps coming. Click, or press End, to follow the newest rows again.", "未跟随最新行：你选中了一行，数据继续到达时它保持在视野中。点击或按 End 键重新跟随最新行。";
    Show => "Show", "显示";
    Everyone => "Everyone", "全部";
    ShowFieldsHint => "only f.… (fields)", "仅 f.…（按字段）";
    ShowFieldsHintOf => "only f.{} == …", "仅显示 f.{} == …";
    TipShowFields => "Show only the messages this holds for, by decoded field (as Find takes it: f.NAME compares raw values). Session messages stay shown. Empty shows every row.", "只显示满足此条件的消息（按解码字段，写法同查找：f.字段名 比较原始值）。会话消息照常显示。留空则显示全部。";
    ShowFieldsHidden => "{} hidden", "已隐藏 {} 条";
    ShowFieldsUnreadable => "{} of them cannot be compared: {}", "其中 {} 条无法比较：{}";
    ShowFieldsUnreadableShort => "⚠ {} cannot be compared", "⚠ {} 条无法比较";
    ShowFieldsBusy => "{} hidden so far ({}%)", "已隐藏 {} 条（{}%）";
    TipFilterPeer => "Show one client's or peer's records only", "只显示某个客户端或对端的记录";
    Stream => "Stream", "连续显示";
    TipStream => "Continuous stream (连续显示): reads joined into lines, broken at newlines, instead of a row per message", "把收到的数据连成行、遇换行符断行，而不是每条消息一行";
    HideSent => "Hide sent", "隐藏发送";
    HideReceived => "Hide received", "隐藏接收";
    ShowControls => "Show \\r\\n", "显示 \\r\\n";
    TipShowControls => "Show control characters as escapes", "以转义形式显示控制字符";
    Export => "Export", "导出";
    TipExport => "Save the log as text, hex, CSV or pcap (opens in Wireshark)", "把日志保存为文本、十六进制、CSV 或 pcap（可用 Wireshark 打开）";
    ExportText => "Text log", "文本日志";
    ExportHex => "Hex log", "十六进制日志";
    ExportCsv => "CSV", "CSV 表格";
    ExportPcap => "pcap (Wireshark)", "pcap（Wireshark 抓包文件）";
    Record => "Record", "接收转向文件";
    RecordRaw => "Raw bytes…", "原始字节…";
    RecordTextLog => "Text log with times…", "带时间的文本日志…";
    StopRecording => "Stop recording ({})", "停止记录（{}）";
    TipRecord => "Write every received byte to a file from now on, whatever the log keeps (接收转向文件)", "从现在起把收到的每个字节写入文件，不受日志上限影响";
    SearchHexHint => "hex, e.g. 7E 01", "十六进制，如 7E 01";
    SearchTextHint => "text", "文本";
    SearchFieldHint => "text, or f.NAME == value", "文本，或 f.字段名 == 值";
    TipSearchFields => "With a protocol chosen, f.NAME expressions find by decoded field: f.msg_id == 0x0200 && f.body.speed > 600. They compare the raw value on the wire, before scale and unit (a speed shown as 61.5 km/h is 615). Field names are those of the field tree (hover a field to see its path).", "选择协议后，可用 f.字段名 表达式按解码字段查找：f.msg_id == 0x0200 && f.body.speed > 600。比较的是线路上的原始值，未乘比例、不带单位（显示为 61.5 km/h 的速度原始值是 615）。字段名即字段树中的名字（鼠标悬停可看路径）。";
    FindNoField => "no field '{}' in {}", "{1} 中没有字段“{0}”";
    FindNoFieldNear => "no field '{}' in {} (did you mean {}?)", "{1} 中没有字段“{0}”（是不是 {2}？）";
    Previous => "Previous", "上一个";
    Next => "Next", "下一个";
    MatchNofM => "{} of {}", "第 {} 处，共 {} 处";
    MatchesN => "{} matches", "{} 处匹配";
    SearchingN => "searching… {}% ({} found)", "搜索中… {}%（已找到 {} 处）";
    DetailHead => "{} {} · {} bytes", "{} {} · {} 字节";
    CopyText => "Copy text", "复制文本";
    CopyHex => "Copy hex", "复制十六进制";
    Partial => "(partial) ", "（不完整）";
    MoreBytes => " … (+{} bytes)", " …（还有 {} 字节）";

    // Send box.
    HintHex => "Hex to send, e.g. 01 03 00 00 00 0A", "要发送的十六进制，如 01 03 00 00 00 0A";
    HintEscapes => "Text with escapes, e.g. AT+RST\\r\\n", "带转义的文本，如 AT+RST\\r\\n";
    HintText => "Text to send (Ctrl+Enter)", "要发送的文本（Ctrl+Enter）";
    FixSendBox => "Fix the send box first", "请先修正发送框的内容";
    NobodyToSend => "Nobody to send to yet", "还没有发送对象";
    PreviewFieldsFrom => "{{f.…}} from the frame of {} ≡ {}", "{{f.…}} 取自 {} 收到的帧 ≡ {}";
    TipPreviewFieldsFrom => "The send box's {{f.NAME}} take their values from this frame: the row picked in the log, else the newest received. Pick another row to use its values.", "发送框中的 {{f.字段}} 取自这一帧：日志中选中的行，否则为最新收到的一帧。选中其他行即可使用它的值。";
    PreviewBytes => "{} bytes: {}{}", "{} 字节：{}{}";
    TipPreview => "Exactly what the next send puts on the wire", "下一次发送实际发出的字节";
    History => "History", "历史";
    TipHistory => "Payloads sent before (历史发送)", "之前发送过的内容";
    TipRecall => "Put it back in the send box", "放回发送框";
    TipQuickRun => "{}\n(right-click to edit or delete)", "{}\n（右键编辑或删除）";
    EditEllipsis => "Edit…", "编辑…";
    Delete => "Delete", "删除";
    AddQuick => "+ Quick command", "+ 快捷指令";
    AddQuickExplain => "Save the send box as a one-click command", "把发送框保存为一键指令";
    ActionCompose => "Compose…", "组帧…";
    TipActionCompose => "Build a frame from the fields of the tab's protocol: lengths, counts, checksums and escaping are computed", "按本页协议的字段组一帧：长度、数量、校验和转义自动计算";
    ComposeTitle => "Compose a frame", "按字段组帧";
    ComposeProtocol => "Protocol", "协议";
    ComposePickProtocol => "Decode as is not set on this tab: pick a protocol", "本页未设置“解码为”：请选择协议";
    ComposeMessage => "Message", "消息";
    ComposeDirection => "Direction", "方向";
    ComposeRequest => "Request", "请求";
    ComposeReply => "Reply", "应答";
    ComposeComputed => "computed", "自动计算";
    TipComposeComputed => "Worked out when the frame is made (a length, count, checksum or constant)", "组帧时自动算出（长度、数量、校验或常量）";
    ComposeNoMessages => "This protocol's frames are not chosen by a message id: its fields are filled in as one frame", "该协议不按消息 ID 区分帧：直接填写各字段";
    ComposeNotNumber => "'{}' is not a number: type it in decimal, or in hex as 0x…", "“{}”不是数字：请输入十进制数，或以 0x 开头的十六进制数";
    ComposeRange => "{} is out of range: this field takes {} to {}", "{} 超出范围：此字段取值 {} 到 {}";
    ComposeNotDigits => "'{}' is not decimal digits (AA… only for a broadcast address)", "“{}”不是十进制数字（AA… 仅用于广播地址）";
    ComposeNotDecimal => "'{}' is not decimal digits", "“{}”不是十进制数字";
    ComposeBadHex => "'{}' is not hex bytes: {}", "“{}”不是十六进制字节：{}";
    ComposeHoldsSeparator => "'{}' holds '{}', which splits the frame's fields: it cannot be in a value", "“{}”含有“{}”，它用于分隔帧中的字段，不能出现在值里";
    ComposeKeyRequired => "{} must be given: the standard has it in every packet", "必须填写 {}：标准要求每个数据包都有";
    ComposeKeyDigits => "'{}' is not {} decimal digits", "“{}”不是 {} 位十进制数字";
    ComposeNotWhole => "'{}' is not a whole number in decimal", "“{}”不是十进制整数";
    ComposeOutsideStandard => "{} is outside what the standard allows: {} to {}", "{} 超出标准允许的范围：{} 到 {}";
    ComposeNotPair => "'{}' is not key=value (pairs split by '{}', groups by '{}')", "“{}”不是 键=值（键值对以“{}”分隔，组以“{}”分隔）";
    TipComposeKvKey => "Left empty, the key is left out of the frame", "留空则帧中不含此键";
    TipComposeNested => "key=value pairs, split by '{}'; groups split by '{}' (e.g. {})", "键=值 对，以“{}”分隔；组以“{}”分隔（如 {}）";
    TipComposeExtra => "Hex bytes sent after the fields this message names (a device's longer value); counted in the length", "在本消息各字段之后发送的十六进制字节（设备给出的更长的值），计入长度";
    ComposeAddItem => "+ Item", "+ 条目";
    TipComposeAddItem => "Add an item to this list (its count is computed)", "在此列表中增加一项（数量自动计算）";
    ComposeRemoveItem => "Remove", "删除";
    ComposeFieldError => "{}: {}", "{}：{}";
    ComposeRefused => "Not sent: {}", "未发送：{}";
    ComposeNoFrame => "No frame can be made: {}", "无法组帧：{}";
    ComposePreview => "Composed, {} bytes: {}{}", "已组帧，{} 字节：{}{}";
    ComposePreviewDraft => "Draft, not sendable (a field in error taken as 0), {} bytes: {}{}", "草稿，不可发送（出错的字段按 0 计），{} 字节：{}{}";
    ComposeChoose => "Choose…", "请选择…";
    ComposeSaveQuick => "Save as quick command", "保存为快捷指令";
    TipComposeSaveQuick => "Keep this frame as a one-click command (its bytes, named by its message; right-click it → Edit in Compose… to change its fields)", "把这一帧保存为一键指令（其字节，以消息命名；右键 → 在组帧中编辑… 可改其字段）";
    ComposeUpdateQuick => "Save to '{}'", "保存到“{}”";
    ComposeSavedTo => "Saved to '{}'", "已保存到“{}”";
    TipComposeUpdateQuick => "Replace the quick command's bytes and fields with this frame (its delay stays; a name made from the old frame's summary follows the new one, a name you gave stays)", "用这一帧替换该快捷指令的字节和字段（延时不变；由旧帧摘要生成的名称随新帧更新，您起的名称保持不变）";
    ComposeEditing => "Editing the quick command '{}'", "正在编辑快捷指令“{}”";
    EditInCompose => "Edit in Compose…", "在组帧中编辑…";
    Name => "Name", "名称";
    Add => "Add", "添加";
    TipQuickCommands => "Quick commands (快捷指令) are saved with the session and form the send sequence", "快捷指令随会话保存，并按顺序组成发送序列";
    QuickCommand => "Quick command", "快捷指令";
    Payload => "Payload", "内容";
    Escapes => "Escapes", "转义";
    LineEnd => "Line end", "行尾";
    DelayAfter => "Delay after, in a sequence", "在序列中发送后延时";
    Checksum => "Checksum", "校验位";
    TipChecksumQuick => "Appended after the payload and line ending", "附加在内容和行尾之后";
    Save => "Save", "保存";
    NotConnectedClient => "Not connected: click Connect first", "未连接：请先点击“连接”";
    NoClientConnected => "No client is connected", "没有客户端连接";
    UdpNotOpen => "The UDP socket is not open: click Open first", "UDP 套接字未打开：请先点击“打开”";
    SetRemoteOrPeer => "Set a valid remote address, or pick a peer", "请填写有效的远程地址，或选择一个对端";
    QuickCommandError => "Quick command '{}': {}", "快捷指令“{}”：{}";
    SequenceEmpty => "The sequence is empty: add quick commands first", "序列为空：请先添加快捷指令";

    // Send group.
    SendGroup => "Send", "发送设置";
    BigEndian => "BE", "大端";
    TipBigEndian => "Big endian: most significant byte first", "大端：高字节在前";
    LittleEndian => "LE", "小端";
    TipLittleEndian => "Little endian: least significant byte first", "小端：低字节在前";
    SendText => "Send text", "文本发送";
    TipSendText => "The send box is text, encoded with the chosen encoding", "发送框是文本，按所选编码发送";
    SendHex => "Send hex", "十六进制发送";
    TipSendHex => "The send box is hex: 01 02, 0x01,0x02 or 0102", "发送框是十六进制：01 02、0x01,0x02 或 0102";
    TipEscapes => "Text with \\r \\n \\t \\0 \\\\ and \\xHH escapes", "支持 \\r \\n \\t \\0 \\\\ 和 \\xHH 转义的文本";
    TipTarget => "Pick a client or peer in the list above to send to it only", "在上面的列表中选择客户端或对端，只发送给它";
    ClearAfterSend => "Clear after send", "发送后清空";
    ToServer => "To: the server", "发往：服务器";
    ToAllClients => "To: all clients", "发往：所有客户端";
    ToX => "To: {}", "发往：{}";
    TipLineEnd => "Appended to every send", "附加到每次发送的末尾";
    TipChecksumSend => "Appended after the payload and line ending (自动发送附加位)", "附加在内容和行尾之后（自动发送附加位）";
    Bytes => "Bytes", "字节";
    Invalid => "invalid", "无效";
    Skip => "skip", "跳过";
    TipSkip => "Bytes at the start and end the checksum does not cover", "开头和结尾不参与校验的字节数";
    StartPrefix => "start ", "开头 ";
    EndPrefix => "end ", "结尾 ";
    LengthPrefix => "Length prefix", "长度前缀";
    TipLengthPrefix => "Put the length before each send, as length-prefixed protocols expect", "在每次发送前加上长度，适用于带长度前缀的协议";
    TipLengthWidth => "Length field size", "长度字段的字节数";
    CountsHeader => "counts header", "长度含报头";
    FromPrefix => "from ", "起始 ";
    StepPrefix => "step ", "步长 ";
    Restart => "restart", "重置";
    TipRestart => "Start again (next value {})", "重新开始（下一个值 {}）";
    Every => "Every", "每隔";
    TipCyclic => "Cyclic send interval (循环发送); timed by the I/O thread, so it keeps going while the window is hidden", "循环发送间隔；由 I/O 线程计时，窗口隐藏时照常发送";
    TipCyclicCount => "How many sends; 0 = until stopped", "发送次数；0 表示直到停止";
    StopCyclic => "Stop cyclic", "停止循环";
    SentN => "sent {}", "已发 {}";
    StartCyclic => "Start cyclic", "开始循环";
    TipStartCyclic => "Send the send box every interval", "按间隔循环发送发送框的内容";
    RunSequence => "Run sequence", "运行序列";
    TipRunSequence => "Send the quick commands in order, each followed by its delay", "按顺序发送快捷指令，每条之后延时";
    TipSequenceEmpty => "Add quick commands (under the send box) to make a sequence", "在发送框下方添加快捷指令即可组成序列";
    LastX => "last: {}", "上一条：{}";
    RepeatSequence => "Repeat sequence", "循环序列";
    FileProgress => "{} of {} · {}/s", "{} / {} · {}/s";
    CancelFile => "Cancel file", "取消发送文件";
    SendFile => "Send file…", "发送文件…";
    TipSendFile => "Stream a file to the target in chunks (启用文件数据源)", "把文件分块发送给目标（文件数据源）";
    TipChunk => "Chunk size (one datagram per chunk in UDP)", "块大小（UDP 下每块一个数据报）";
    TipRate => "Rate cap; 0 = as fast as the peer takes it", "速率上限；0 表示对方能收多快就发多快";
    VariablesHelp => "Variables (text modes), resolved at each send:\n{{counter}}  a number that grows by the step after each send\n{{time}}  local time HH:MM:SS\n{{unixtime}}  seconds since 1970\n{{random:0:255}}  a random number in the range\n{{hex:0D 0A}}  raw bytes\n\\{{  a literal {{", "变量（文本模式），每次发送时替换：\n{{counter}}  计数器，每次发送后加上步长\n{{time}}  本地时间 HH:MM:SS\n{{unixtime}}  1970 年以来的秒数\n{{random:0:255}}  范围内的随机数\n{{hex:0D 0A}}  原始字节\n\\{{  字面的 {{";
    ChecksumNone => "None", "无";
    ChecksumFixed => "Fixed bytes", "固定字节";
    ChecksumNegSum => "Negative SUM8 (two's complement)", "SUM8 取补（补码）";
    LineEndNone => "None", "无";

    // Status bar.
    RxCounter => "RX {} ({}){}", "接收 {} ({}){}";
    TipRx => "Bytes received (messages received), and the rate over the last second", "接收字节数（消息数）及最近一秒的速率";
    TxCounter => "TX {} ({}){}", "发送 {} ({}){}";
    TipTx => "Bytes sent (sends), and the rate over the last second", "发送字节数（次数）及最近一秒的速率";
    Reset => "Reset", "计数清零";
    TipReset => "Zero the RX/TX counters", "把收发计数清零";
    UndoReset => "Undo reset", "撤销清零";
    TipUndoReset => "Put the counters back as they were before Reset, plus what came since ({} s left)", "把计数恢复为清零前的值，并加上之后的收发（还剩 {} 秒）";
    Evicted => "{} old rows ({}) dropped from the log", "日志已丢弃 {} 条旧记录（{}）";
    TipEvicted => "The log keeps at most {}; the oldest rows go first", "日志最多保留 {}，最旧的记录先丢弃";
    UdpDropped => "{} UDP datagrams dropped", "已丢弃 {} 个 UDP 数据报";
    SendsRefusedShort => "{} sends refused ({})", "{} 次发送被拒（{}）";
    TipSendsRefused => "A peer that does not read: its send queue was full, and these sends (replies, cyclic sends, typed ones) were not sent. The log says when it began.", "对端不读取：其发送队列已满，这些发送（自动回复、循环发送、手动发送）未发出。日志中记有开始时间。";
    StateIdle => "Idle", "空闲";
    StateFailed => "Not connected (see the log)", "未连接（详见日志）";
    StateConnecting => "Connecting to {} …", "正在连接 {} …";
    StateConnected => "Connected to {} from {}", "已连接 {}（本地 {}）";
    StateBound => "Bound to {} · peers: {}", "已绑定 {} · {} 个对端";
    StateListening => "Listening on {} · clients: {}", "正在监听 {} · {} 个客户端";
    StateNotListening => "Not listening · clients: {}", "未监听 · {} 个客户端";

    // Messages in the log.
    Recording => "Recording every received byte to {}", "正在把收到的每个字节记录到 {}";
    RecordFailed => "Could not record to {}: {}", "无法记录到 {}：{}";
    RecordingStopped => "Recording to {} stopped: {}", "记录到 {} 已停止：{}";
    SavedRecords => "Saved {} records to {}", "已把 {} 条记录保存到 {}";
    SaveFailed => "Could not save {}: {}", "无法保存 {}：{}";
    ExportingN => "Exporting… {}%", "导出中… {}%";
    CancelExport => "Cancel", "取消";
    TipCancelExport => "Stop the export; what is written so far stays in the file", "停止导出；已写入的内容保留在文件中";
    ExportStopped => "Export to {} stopped: {} records written", "导出到 {} 已停止：已写入 {} 条记录";
    ExportMissed => "{} records were dropped by the log's cap before they could be written", "{} 条记录在写入前已被日志上限丢弃";
    StartingSession => "starting the session", "启动会话";
    ConnectCancelled => "Connect to {} cancelled", "已取消连接 {}";

    // Menus and actions.
    MenuFile => "File", "文件";
    MenuView => "View", "视图";
    MenuTools => "Tools", "工具";
    ActionSend => "Send", "发送";
    TipActionSend => "Send the send box to the current target", "把发送框的内容发给当前目标";
    ActionClear => "Clear log", "清空日志";
    TipActionClear => "Empty the log of this tab", "清空本标签页的日志";
    ActionFind => "Find", "查找";
    TipActionFind => "Search the log for text or hex", "在日志中查找文本或十六进制";
    ActionOpen => "Open profile…", "打开配置…";
    TipActionOpen => "Open a session profile (.ron) in a tab", "在标签页中打开会话配置文件（.ron）";
    ActionSave => "Save profile", "保存配置";
    TipActionSave => "Save this tab's settings to its profile file", "把本标签页的设置保存到它的配置文件";
    ActionSaveAs => "Save profile as…", "配置另存为…";
    TipActionSaveAs => "Save this tab's settings to a new profile file", "把本标签页的设置保存为新的配置文件";
    ActionNewTab => "New tab", "新建标签页";
    TipActionNewTab => "Another session beside this one, with this one's settings (port, encoding, framing, quick commands) and its own connection and log", "再开一个会话，沿用本会话的设置（端口、编码、分帧、快捷指令），有自己的连接和日志";
    ActionNewEmptyTab => "New empty tab", "新建空白标签页";
    TipActionNewEmptyTab => "Another session with the default settings", "再开一个使用默认设置的会话";
    ActionCloseTab => "Close tab", "关闭标签页";
    TipActionCloseTab => "Close this tab (its connection too; Reopen closed tab brings it back with its log)", "关闭本标签页（连同它的连接；“重新打开关闭的标签页”可连同日志恢复）";
    ActionReopenTab => "Reopen closed tab", "重新打开关闭的标签页";
    TipActionReopenTab => "Bring back the last tab closed, with its settings and log", "恢复最近关闭的标签页，连同其设置和日志";
    ActionQuit => "Quit", "退出";
    TipActionQuit => "Close SockScope (it asks first while a session is open)", "关闭 SockScope（有会话打开时会先询问）";
    AskCloseTab => "Close “{}”? Its session is open: its connections end.", "关闭“{}”？它的会话仍打开，连接将会断开。";
    CloseTabAnyway => "Close the tab", "关闭标签页";
    AskCloseTabLog => "Close “{}”? Its log ({}) is too large to keep for Reopen closed tab: it is discarded.", "关闭“{}”？它的日志（{}）太大，无法保留给“重新打开关闭的标签”，将被丢弃。";
    AskCloseTabBoth => "Close “{}”? Its session is open: its connections end. Its log ({}) is too large to keep for Reopen closed tab: it is discarded.", "关闭“{}”？它的会话仍打开，连接将会断开。它的日志（{}）太大，无法保留给“重新打开关闭的标签”，将被丢弃。";
    LogNotKept => "The log ({}) was not kept when the tab closed", "关闭标签时日志（{}）未保留";
    AskQuit => "Quit SockScope? {} sessions are open: their connections end.", "退出 SockScope？有 {} 个会话仍打开，连接将会断开。";
    AskQuitOne => "Quit SockScope? {} session is open: its connections end.", "退出 SockScope？有 {} 个会话仍打开，连接将会断开。";
    QuitAnyway => "Quit", "退出";
    Cancel => "Cancel", "取消";
    LogCap => "Log cap", "日志上限";
    LogCapNotSize => "'{}' is not a size: type one with its unit, such as 64 MiB, 256 MiB or 2 GiB", "“{}”不是大小：请带单位输入，例如 64 MiB、256 MiB 或 2 GiB";
    LogCapTakenAs => "'{}' taken as {} MiB (whole MiB, from 1 MiB to 64 GiB)", "“{}”按 {} MiB 计（整数 MiB，范围 1 MiB 到 64 GiB）";
    TipLogCap => "The log keeps at most this much; older rows are dropped and counted in the status bar (Record keeps every byte whatever the cap). Type a size with its unit (64 MiB, 2 GiB, 1.5 GB; a bare number is MiB): from 1 MiB to 64 GiB, a smaller one is taken as 1 MiB", "日志最多保留这么多数据；更早的行会被丢弃并在状态栏计数（“记录”不受此上限影响，保存每个字节）。输入大小时可带单位（64 MiB、2 GiB、1.5 GB；只写数字表示 MiB）：范围 1 MiB 到 64 GiB，更小的值按 1 MiB 计";
    PausedAllEvicted => "Paused: the log's {} cap dropped every row shown when you paused; {} newer rows wait — Resume to see them", "已暂停：暂停时显示的行已全部被日志的 {} 容量上限丢弃；{} 条新行正在等待——点击“继续”查看";
    PausedSomeEvicted => "Paused: the log's {} cap dropped the oldest rows shown when you paused", "已暂停：暂停时显示的最早几行已被日志的 {} 容量上限丢弃";
    Ok => "OK", "确定";
    Dismiss => "Dismiss", "关闭提示";
    Path => "Path", "路径";
    TypePath => "No file dialog could be shown here: type the path.", "此处无法显示文件对话框：请输入路径。";
    DialogOpenProfile => "Open a profile", "打开配置";
    DialogSaveProfile => "Save the profile as", "配置另存为";
    DialogSendFile => "Send a file", "发送文件";
    WebSocket => "WebSocket", "WebSocket";
    RelayNotOpen => "The relay is not running: click Start", "转发未运行：请点击启动";
    RelayPickTarget => "Pick the client or its upstream in the list: a relay sends into one direction", "请在列表中选择客户端或其上游：转发只向一个方向发送";
    EvRelayPair => "pair {}: {} ⇄ upstream {}", "第 {} 对：{} ⇄ 上游 {}";
    EvRelayEnded => "pair {}: {} ⇄ upstream ended: {} B up, {} B down", "第 {} 对：{} ⇄ 上游已结束：上行 {} B，下行 {} B";
    EvRelayEndedClientReset => "pair {}: {} ⇄ upstream ended: the client reset; {} B it sent were not delivered ({} B up, {} B down went)", "第 {} 对：{} ⇄ 上游已结束：客户端重置了连接；它发送的 {} B 未送达（上行已转发 {} B，下行 {} B）";
    EvRelayEndedUpstreamReset => "pair {}: {} ⇄ upstream ended: the upstream reset; {} B it sent were not delivered ({} B up, {} B down went)", "第 {} 对：{} ⇄ 上游已结束：上游重置了连接；它发送的 {} B 未送达（上行已转发 {} B，下行 {} B）";
    EvRelayNotRelayed => "pair {}: {} ⇄ upstream ended: not relayed, the upstream could not be reached; {} B the client sent were not delivered ({} B up, {} B down went)", "第 {} 对：{} ⇄ 上游已结束：未能转发，无法连接上游；客户端发送的 {} B 未送达（上行已转发 {} B，下行 {} B）";
    EvRelayUndelivered => "pair {}: not delivered when it ended: {} B client → upstream, {} B upstream → client", "第 {} 对：结束时未送达：客户端 → 上游 {} B，上游 → 客户端 {} B";
    EvRelayCut => "Cut pair {} ({} ⇄ upstream) after {} B up and {} B down", "已切断第 {} 对（{} ⇄ 上游），上行 {} B，下行 {} B";
    EvRelayDroppedUp => "Dropped by the simulator, client → upstream (the drop share): {} B “{}”; {} dropped this way", "模拟器丢弃（客户端 → 上游，按丢包比例）：{} B “{}”；此方向共丢弃 {} 个";
    EvRelayDroppedUpFull => "Dropped by the simulator, client → upstream (its lane was full): {} B “{}”; {} dropped this way", "模拟器丢弃（客户端 → 上游，链路队列已满）：{} B “{}”；此方向共丢弃 {} 个";
    EvRelayDroppedDown => "Dropped by the simulator, upstream → client (the drop share): {} B “{}”; {} dropped this way", "模拟器丢弃（上游 → 客户端，按丢包比例）：{} B “{}”；此方向共丢弃 {} 个";
    EvRelayDroppedDownFull => "Dropped by the simulator, upstream → client (its lane was full): {} B “{}”; {} dropped this way", "模拟器丢弃（上游 → 客户端，链路队列已满）：{} B “{}”；此方向共丢弃 {} 个";
    RelayFieldError => "{} · {}: {}", "{} · {}：{}";
    RelayDropCounts => "Dropped by the simulator: {} client → upstream, {} upstream → client", "模拟器丢弃：客户端 → 上游 {} 个，上游 → 客户端 {} 个";
    TipWebSocket => "Speak WebSocket on every connection (with TLS: wss://): each message is one record, whatever the framing", "每个连接都使用 WebSocket（加 TLS 即 wss://）：每条消息一条记录，不受分帧设置影响";
    WsPath => "Path", "路径";
    TipWsPath => "The path asked for in the upgrade (/ws?token=…)", "升级请求中的路径（/ws?token=…）";
    WsHost => "Host", "Host";
    TipWsHost => "The Host header; empty: the remote address", "Host 请求头；留空则用远程地址";
    WsSubprotocol => "Protocol", "子协议";
    HintWsSubprotocol => "subprotocol (optional)", "子协议（可选）";
    TipWsSubprotocol => "The subprotocol offered (client) or taken (server; empty takes the client's first)", "提供（客户端）或接受（服务器；留空接受客户端的第一个）的子协议";
    WsBinary => "Send as binary", "以二进制发送";
    TipWsBinary => "Send every message as a binary message (else as text when it is valid UTF-8)", "每条消息都以二进制帧发送（否则合法 UTF-8 以文本帧发送）";
    WsPing => "Ping", "Ping";
    TipWsPing => "Send a WebSocket ping; the pong shows in the log", "发送 WebSocket ping；pong 会显示在日志中";
    WsClose => "Close (1000)", "关闭（1000）";
    TipWsClose => "Start the closing handshake with code 1000 (normal)", "以 1000（正常）关闭码开始关闭握手";
    DialogPem => "Pick a PEM file", "选择 PEM 文件";
    DialogProfileFilter => "SockScope profile (RON)", "SockScope 配置（RON）";
    Tls => "TLS", "TLS 加密";
    TipTls => "Speak TLS on every connection (rustls): TLS 1.2 and 1.3", "每个连接都使用 TLS（rustls）：TLS 1.2 与 1.3";
    TlsVerify => "Trust", "信任";
    TlsVerifySystem => "System roots", "系统根证书";
    TlsVerifyCa => "CA file", "CA 文件";
    TlsVerifyOff => "Don't verify", "不验证";
    TipTlsVerify => "How the server's certificate is checked: against the roots this OS trusts, against a CA file of yours, as exactly one certificate (its SHA-256: a device's own self-signed one), or not at all", "如何检查服务器证书：用系统信任的根证书、用你的 CA 文件、只认一张证书（按 SHA-256：适用于设备自己的自签名证书），或不检查";
    TlsOffWarning => "The server's certificate is NOT checked: anyone in between can read and change the traffic", "不检查服务器证书：中间人可以读取并篡改通信";
    TlsSni => "SNI", "SNI";
    HintSni => "empty: the remote address", "留空：使用远程地址";
    TipSni => "The server name sent in the handshake and checked against the certificate", "握手时发送并与证书核对的服务器名";
    TlsAlpn => "ALPN", "ALPN";
    HintAlpn => "h2, http/1.1 (optional)", "h2, http/1.1（可选）";
    TipAlpn => "Application protocols offered (client) or accepted (server), comma-separated, preferred first", "提供（客户端）或接受（服务器）的应用层协议，逗号分隔，优先的在前";
    TlsClientCert => "Client cert", "客户端证书";
    TlsKey => "Key", "私钥";
    HintPemFile => "PEM file", "PEM 文件";
    TipPick => "Pick a file", "选择文件";
    TlsServerCert => "Certificate", "证书";
    TlsSelfSigned => "Self-signed", "自签名";
    TlsFromFiles => "From files", "来自文件";
    TipSelfSigned => "A certificate made at Listen for these names and addresses (comma-separated); clients must not verify, or pin its fingerprint", "监听时为这些名称和地址（逗号分隔）生成证书；客户端需不验证，或核对其指纹";
    TlsNames => "Names", "名称";
    TlsCert => "Cert", "证书";
    TlsClientCa => "Client CA", "客户端 CA";
    HintClientCa => "empty: no client certificate asked", "留空：不要求客户端证书";
    TipClientCa => "Require every client to present a certificate signed by a CA in this file", "要求每个客户端出示由此文件中的 CA 签发的证书";
    TlsNegotiated => "TLS: {}", "TLS：{}";
    TipTlsChain => "The peer's certificates, leaf first", "对方的证书链，叶证书在前";
    TlsVerifyPin => "This certificate", "此证书";
    TlsPin => "SHA-256", "SHA-256";
    HintPin => "AB:CD:… (the certificate's SHA-256)", "AB:CD:…（证书的 SHA-256）";
    TipPin => "Trust exactly the certificate with this SHA-256, whatever its names, dates or issuer: for a device's own self-signed certificate. Paste it as shown here or by openssl x509 -fingerprint -sha256", "只信任 SHA-256 为此值的那张证书，不管其名称、有效期或签发者：适用于设备自己的自签名证书。可粘贴此处或 openssl x509 -fingerprint -sha256 显示的值";
    TipPinFromFile => "Take the SHA-256 from a certificate file (PEM or DER)", "从证书文件（PEM 或 DER）读取 SHA-256";
    TlsRefusedCert => "The server's certificate was refused: {}", "服务器的证书被拒绝：{}";
    TlsTrustThis => "Trust this certificate", "信任此证书";
    TipTlsTrustThis => "Pin exactly this certificate by its SHA-256 ({}) and connect with it from now on", "按 SHA-256（{}）固定这张证书，此后以它连接";
    TipFixFirst => "Fix this first — {}: {}", "请先修正——{}：{}";
    TlsKeptCert => "This server's certificate: {}", "本服务器的证书：{}";
    TlsCopySha => "Copy SHA-256", "复制 SHA-256";
    TipCopySha => "Copy the certificate's SHA-256, to pin it on a device (openssl x509 -fingerprint -sha256 prints the same). It stays the same at every Listen until you regenerate it", "复制证书的 SHA-256，用于在设备上固定它（openssl x509 -fingerprint -sha256 输出相同的值）。每次监听都使用同一张证书，直到重新生成";
    TlsRegenerate => "Regenerate", "重新生成";
    TipRegenerate => "Make a new self-signed certificate (a new key, a new SHA-256): devices that pinned this one will refuse the new one", "生成新的自签名证书（新私钥、新 SHA-256）：固定了当前证书的设备将拒绝新证书";
    TipRegenerateLocked => "Stop listening first: the server goes on with the certificate it started with", "请先停止监听：服务器会继续使用启动时的证书";
    DialogExport => "Export the log as", "导出日志为";
    DialogExportFields => "Export the fields of this message kind as", "将此类消息的字段导出为";
    DialogExportPlot => "Export the plotted values as", "将绘图数据导出为";
    DialogRecord => "Record received bytes to", "接收数据保存到";
    NoDialogAtAll => "there is no desktop portal (no D-Bus session) and no zenity", "没有桌面门户（无 D-Bus 会话），也没有 zenity";
    NoDialogShown => "the system file dialog did not open (no desktop portal or zenity answered)", "系统文件对话框未能打开（桌面门户和 zenity 都没有响应）";
    DialogFellBack => "No file dialog: {}. Type the path in the prompt instead.", "无文件对话框：{}。请在提示框中输入路径。";
    ActionInterfaces => "Local interfaces…", "本机网卡…";
    TipActionInterfaces => "This machine's network interfaces and addresses", "本机的网络接口和地址";
    ActionInspector => "Address inspector…", "地址分析…";
    TipActionInspector => "Class, scope and range of an IPv4/IPv6 address or CIDR", "IPv4/IPv6 地址或网段的类别、范围和主机区间";
    RecentProfiles => "Recent profiles", "最近的配置";
    NoRecent => "None yet", "暂无";
    AutoConnect => "Connect when opened", "打开时自动连接";
    TipAutoConnect => "Saved in the profile: Connect / Listen / Open as soon as it is opened", "保存在配置中：打开配置后立即连接 / 监听 / 打开";
    Language => "Language", "语言";
    Theme => "Theme", "主题";
    Dark => "Dark", "深色";
    Light => "Light", "浅色";
    System => "System", "跟随系统";
    TipSystemTheme => "Follow the system's light or dark setting", "跟随系统的浅色或深色设置";
    UiScale => "UI scale", "界面缩放";
    TipUiScale => "Size of everything in the window (for HiDPI screens)", "窗口中所有内容的大小（适用于高分屏）";
    Rename => "Rename", "重命名";
    TipTab => "Ctrl+{} · right-click to rename or close", "Ctrl+{} · 右键重命名或关闭";
    NewTabName => "Session {}", "会话 {}";

    // Profiles.
    ProfileOpened => "Opened profile {}", "已打开配置 {}";
    ProfileSaved => "Saved profile {}", "已保存配置 {}";
    ProfileSavedWithMistake => "Saved profile {} with a mistake: {} — `sockscope run` will refuse it until it is fixed", "已保存配置 {}，但其中有错误：{} —— 修正之前 `sockscope run` 会拒绝它";
    ProfileWarning => "Profile {}: {}", "配置 {}：{}";
    SecondWindow => "Another SockScope window is open and keeps the saved tabs: this window opens only what it was given, and its tabs are not saved with them", "另一个 SockScope 窗口已打开并保存着各标签页：本窗口只打开所给的内容，其标签页不与之一同保存";
    ProfileFailed => "Could not open profile {}: {} (the file is left as it is)", "无法打开配置 {}：{}（文件保持原样）";
    ReservedFileName => "{} is a name Windows keeps for a device (as CON, NUL, COM1…LPT9 are): choose another name, e.g. {}_", "{} 是 Windows 保留给设备的名称（如 CON、NUL、COM1…LPT9）：请另取名称，例如 {}_";
    DialogFilesOfType => "{} files", "{} 文件";
    ProfileSaveFailed => "Could not save profile {}: {}", "无法保存配置 {}：{}";
    ProfileSaveAsAfterWarnings => "It was opened with warnings: choose where to save it", "它打开时有警告：请选择保存位置";
    DropProfile => "Drop a .ron profile to open it", "拖入 .ron 配置文件即可打开";
    NotAProfileFile => "{}: only .ron profiles can be opened here", "{}：这里只能打开 .ron 配置文件";

    // Tools.
    Interfaces => "Local interfaces", "本机网卡";
    InterfaceCol => "Interface", "接口";
    AddressCol => "Address", "地址";
    KindCol => "Kind", "类型";
    UseAsLocal => "Use as local IP", "用作本地 IP";
    NoInterfaces => "No interface found", "未找到网络接口";
    Inspector => "Address inspector", "地址分析";
    InspectorHint => "192.168.1.10/24 or fe80::1", "192.168.1.10/24 或 fe80::1";
    InspectorInput => "Address or CIDR", "地址或网段";
    Version => "Version", "版本";
    Class => "Class", "类别";
    Scope => "Scope", "范围";
    NetworkAddr => "Network", "网络地址";
    Netmask => "Netmask", "子网掩码";
    Broadcast => "Broadcast", "广播地址";
    Hosts => "Hosts", "主机范围";
    HostCount => "Host count", "主机数";
    ScopeLoopback => "loopback", "环回";
    ScopePrivate => "private", "私有";
    ScopeLinkLocal => "link-local", "链路本地";
    ScopeMulticast => "multicast", "组播";
    ScopeUnspecified => "unspecified (all interfaces)", "未指定（所有网卡）";
    ScopeBroadcast => "broadcast", "广播";
    ScopeDocumentation => "documentation", "文档示例";
    ScopeShared => "shared (carrier-grade NAT)", "共享地址（运营商级 NAT）";
    ScopeUniqueLocal => "unique local", "唯一本地";
    ScopeReserved => "reserved", "保留";
    ScopeGlobal => "global", "公网";
    NotAnAddress => "{}: not an IPv4/IPv6 address or CIDR", "{}：不是 IPv4/IPv6 地址或网段";

    // Errors and events from the engine, capture, codec and profile layers.
    ErrRequired => "Required", "必填";
    ErrOctetTooLarge => "{} is not an IP address: {} is more than 255", "{} 不是 IP 地址：{} 大于 255";
    ErrNotAnIp => "{} is not an IP address (use e.g. 192.168.1.10 or ::1; host names are not resolved)", "{} 不是 IP 地址（例如 192.168.1.10 或 ::1；不解析主机名）";
    ErrPortNotNumber => "{} is not a port: use a number from 0 to 65535", "{} 不是端口：请填写 0 到 65535 的数字";
    ErrPortTooLarge => "{} is not a port: ports go from 0 to 65535", "{} 不是端口：端口范围是 0 到 65535";
    ErrRemotePortZero => "0 (a remote port cannot be 0)", "0（远程端口不能为 0）";
    ErrPortInUse => "Port {} on {} is already in use", "{1} 上的端口 {0} 已被占用";
    ErrLowPort => "Permission denied for port {} on {}: ports below 1024 need administrator rights", "无权使用 {1} 上的端口 {0}：1024 以下的端口需要管理员权限";
    ErrNotLocalAddress => "{} is not an address of this machine", "{} 不是本机的地址";
    ErrBind => "Could not bind {}: {}", "无法绑定 {}：{}";
    ErrRefused => "Connection to {} refused: nothing is listening there", "连接 {} 被拒绝：那里没有程序在监听";
    ErrNetUnreachable => "Cannot reach {}: network unreachable", "无法到达 {}：网络不可达";
    ErrHostUnreachable => "Cannot reach {}: host unreachable", "无法到达 {}：主机不可达";
    ErrAddrNotAvailable => "Cannot connect to {}: address not available", "无法连接 {}：地址不可用";
    ErrTimedOut => "No answer from {}: timed out", "{} 无应答：超时";
    ErrConnect => "Could not connect to {}: {}", "无法连接 {}：{}";
    ErrConnectTimeout => "No answer from {} within {} s", "{} 在 {} 秒内无应答";
    ErrGaveUp => "Gave up reconnecting to {} after {} tries", "重连 {} 已尝试 {} 次，放弃";
    EvReconnecting => "Trying {} again in {} s (try {})", "{1} 秒后重连 {0}（第 {2} 次）";
    StateReconnecting => "Reconnecting to {} in {} s (try {})", "{1} 秒后重连 {0}（第 {2} 次）";
    Reconnect => "Reconnect", "自动重连";
    OsDefault => "OS default", "系统默认";
    Multicast => "Multicast", "组播";
    MulticastN => "Multicast ({} joined)", "组播（已加入 {} 个）";
    Group => "Group", "组地址";
    TipGroup => "A multicast group: 224.0.0.0–239.255.255.255 or ff00::/8. Join it while the socket is open, or before: it is joined at Open", "组播地址：224.0.0.0–239.255.255.255 或 ff00::/8。打开时或打开前都可加入（打开前加入的在打开时加入）";
    Join => "Join", "加入";
    TipJoin => "Join the group on the chosen interface", "在所选接口上加入该组";
    Interface => "Interface", "接口";
    TipJoinInterface => "The interface the group is joined on. The OS default is often wrong on a machine with Wi-Fi and Ethernet; IPv6 groups need one to be named", "加入组播所用的接口。有 Wi-Fi 和有线网卡时系统默认常常不对；IPv6 组播需要指定接口";
    SsmSource => "Source", "源地址";
    HintSsmSource => "any sender (optional)", "任意发送者（可选）";
    TipSsmSource => "Source-specific join (SSM, IPv4): receive only what this sender sends to the group", "指定源加入（SSM，IPv4）：只接收该发送者发往此组的数据";
    NoGroups => "No groups", "未加入组播组";
    Leave => "Leave", "退出";
    TipLeave => "Leave this group: its datagrams stop arriving", "退出该组：不再收到它的数据";
    TipForgetGroup => "Do not join this group at Open", "打开时不再加入此组";
    TipJoinedGroup => "Joined: its datagrams arrive", "已加入：会收到它的数据";
    TipGroupAtOpen => "Joined when the socket opens", "打开套接字时加入";
    Ttl => "TTL / hops", "TTL / 跳数";
    TipTtl => "Time to live (IPv4) or hop limit (IPv6) of multicast sends: 1 stays on this network", "组播发送的 TTL（IPv4）或跳数限制（IPv6）：1 表示不出本网段";
    MulticastLoop => "Loopback", "本机回环";
    TipMulticastLoop => "Receive our own multicast sends on this host", "本机也接收自己发出的组播";
    SendInterface => "Send via", "发送接口";
    TipSendInterface => "The interface multicast sends leave by", "组播数据从哪个接口发出";
    LimitedBroadcast => "everyone on the link", "本链路所有主机";
    TipPickBroadcast => "Send to a broadcast address or a joined group", "发往广播地址或已加入的组";
    TipReconnect => "After a drop or a failed connect, connect again: first after the interval, each wait after that times the backoff, up to the longest wait; 0 tries = no limit", "断开或连接失败后自动重连：先等待间隔，之后每次等待乘以退避倍数，最长不超过上限；次数 0 = 不限";
    ReconnectEvery => "every", "间隔";
    ReconnectBackoff => "backoff ×", "退避 ×";
    ReconnectMax => "at most", "最长";
    ReconnectTries => "tries", "次数";
    StopReconnecting => "Stop reconnecting", "停止重连";
    ErrAccept => "Could not accept a client: {}", "无法接受客户端连接：{}";
    ErrSend => "Could not send to {}: {}", "无法发送到 {}：{}";
    ErrQueueFull => "{} is not reading: its send queue is full, {} bytes were not sent", "{} 没有读取数据：发送队列已满，有 {} 字节未发送";
    ErrSendsRefused => "{} is not reading: {} sends ({} bytes) not sent so far, its send queue is full", "{} 没有读取数据：发送队列已满，至今共有 {} 次发送（{} 字节）未发送";
    ErrNotConnected => "Not connected: nothing to send to", "未连接：没有发送对象";
    ErrUnknownConn => "Client {} is no longer connected", "客户端 {} 已断开";
    ErrClientLeft => "{} is no longer connected: nothing was sent to it", "{} 已断开：未向其发送";
    ErrIo => "Error {}: {}", "{} 时出错：{}";
    CtxWaiting => "waiting for sockets", "等待套接字事件";
    CtxWatching => "watching {}", "监视 {}";
    CtxReceivingUdp => "receiving UDP", "接收 UDP";
    ErrPortUnreachableAt => "Nothing listens at {}: its host answered a datagram with \"port unreachable\" (ICMP), {} so far", "{} 没有程序在监听：对方主机对数据报回复了“端口不可达”（ICMP），至今 {} 次";
    ErrPortUnreachable => "A datagram reached a port where nothing listens: its host answered \"port unreachable\" (ICMP), {} so far", "有数据报发往了无人监听的端口：对方主机回复了“端口不可达”（ICMP），至今 {} 次";
    ErrWebSocket => "WebSocket with {} failed: {}", "与 {} 的 WebSocket 失败：{}";
    WsRefused => "the server answered {} instead of switching to WebSocket", "服务器回复 {}，没有切换到 WebSocket";
    WsBadAccept => "the server's Sec-WebSocket-Accept does not match the key sent", "服务器的 Sec-WebSocket-Accept 与发送的密钥不符";
    WsNotUpgrade => "the client did not ask for a WebSocket upgrade ({})", "客户端没有请求 WebSocket 升级（{}）";
    WsHeadTooLong => "the upgrade head is longer than {} bytes", "升级请求头超过 {} 字节";
    WsProtocol => "the WebSocket protocol was broken: {}", "WebSocket 协议错误：{}";
    WsSpeaksTls => "the peer speaks TLS: use wss://", "对方使用 TLS：请用 wss://";
    WsClosedUnanswered => "the peer closed the connection without answering the upgrade (a TLS port does so: if it speaks TLS, use wss://)", "对方未应答升级请求就关闭了连接（TLS 端口会这样：如果它使用 TLS，请用 wss://）";
    WsTimeout => "the upgrade did not finish within {} s", "升级在 {} 秒内未完成";
    CloseWs => "closed the WebSocket: {} ({}){}", "关闭了 WebSocket：{}（{}）{}";
    EvWsPing => "ping from {}: {}", "来自 {} 的 ping：{}";
    EvWsPong => "pong from {}: {}", "来自 {} 的 pong：{}";
    EvWsUpgradedServer => "WebSocket from {}: the client asked for {}", "来自 {} 的 WebSocket：客户端请求 {}";
    EvWsUpgradedClient => "WebSocket with {}: upgraded (101 Switching Protocols) on {}", "与 {} 的 WebSocket：已升级（101 Switching Protocols），路径 {}";
    WsProtocolTaken => ", subprotocol {}", "，子协议 {}";
    WsProtocolOf => ", subprotocol {} (offered: {})", "，子协议 {}（提供的：{}）";
    WsProtocolNoneTaken => ", no subprotocol taken (offered: {})", "，未接受任何子协议（提供的：{}）";
    WsKindText => "text", "文本";
    WsEchoed => "the peer sent our upgrade request back, as an echo server does: it does not speak WebSocket", "对方把我们的升级请求原样发回，像回显服务器那样：它不是 WebSocket";
    WsNotHttp => "the server did not answer in HTTP (it sent: {}): it does not speak WebSocket", "服务器没有用 HTTP 回复（它发来：{}）：它不是 WebSocket";
    WsKindBinary => "binary", "二进制";
    ErrTlsHandshake => "TLS with {} failed: {}", "与 {} 的 TLS 握手失败：{}";
    ErrTlsSetup => "TLS cannot start: {}", "TLS 无法启动：{}";
    ErrTlsNeedsTcp => "TLS runs over TCP: pick TCP client or server", "TLS 基于 TCP：请选择 TCP 客户端或服务器";
    TlsExpired => "the certificate expired on {}", "证书已于 {} 过期";
    TlsNotYetValid => "the certificate is not valid before {}", "证书在 {} 之前无效";
    TlsUnknownCa => "the certificate is signed by a CA that is not trusted here (unknown CA)", "证书的签发机构不受信任（未知 CA）";
    TlsNameMismatch => "name mismatch: the certificate is for {}, not {}", "名称不符：证书属于 {}，而不是 {}";
    TlsNotTls => "the peer does not speak TLS (what it sent is not a TLS record)", "对方不是 TLS（收到的不是 TLS 记录）";
    TlsNoCommon => "no TLS version or cipher suite in common ({})", "没有共同支持的 TLS 版本或加密套件（{}）";
    TlsNoAlpn => "no ALPN protocol in common", "没有共同的 ALPN 协议";
    TlsAlert => "the peer refused the handshake: {}", "对方拒绝握手：{}";
    TlsNoCertificate => "the client presented no certificate, and one is required", "客户端未提供证书，而此处要求证书";
    TlsBadCertificate => "the certificate is not acceptable ({})", "证书不可用（{}）";
    TlsTimeout => "the handshake did not finish within {} s", "握手在 {} 秒内未完成";
    TlsCaAsLeafNoCaFile => "the server's own certificate is a CA certificate (CA:TRUE, as `openssl req -x509` makes them), made by the device itself, and no CA this system trusts vouches for it (no CA file was given): trust exactly this certificate by its SHA-256, or give the server a certificate from a CA you trust", "服务器自己的证书是 CA 证书（CA:TRUE，`openssl req -x509` 默认如此），由设备自己生成，本机信任的 CA 都不为它担保（未给出 CA 文件）：请按 SHA-256 只信任这张证书，或给服务器换一张由你信任的 CA 签发的证书";
    TlsCaAsLeaf => "the server's own certificate is a CA certificate (CA:TRUE, as `openssl req -x509` makes them), and a CA file cannot vouch for a server's own certificate: trust exactly this certificate by its SHA-256 instead, or give the server a certificate made with CA:FALSE", "服务器自己的证书是 CA 证书（CA:TRUE，`openssl req -x509` 默认如此），CA 文件无法为服务器自己的证书担保：请改为按 SHA-256 只信任这张证书，或给服务器换一张 CA:FALSE 的证书";
    TlsClosed => "the connection closed during the handshake", "握手过程中连接已关闭";
    TlsFile => "Cannot read {}: {}", "无法读取 {}：{}";
    TlsNoCertInFile => "{} holds no PEM certificate", "{} 中没有 PEM 证书";
    TlsKeyMissing => "the client certificate {} needs its key file too", "客户端证书 {} 还需要对应的私钥文件";
    TlsBadServerName => "{} is not a server name (SNI): use a DNS name or an IP address", "{} 不是有效的服务器名（SNI）：请填域名或 IP 地址";
    TlsNoSystemRoots => "this system has no trusted root certificates: pick a CA file, or don't verify", "系统中没有受信任的根证书：请选择 CA 文件，或不验证";
    TlsUnverified => "certificate NOT verified", "证书未验证";
    EvSecured => "TLS with {}: {}", "与 {} 的 TLS：{}";
    EvPeerCert => "  certificate {}: {} — issued by {}, valid {} to {}, SHA-256 {}", "  证书 {}：{} — 签发者 {}，有效期 {} 至 {}，SHA-256 {}";
    EvNoPeerCert => "  the peer presented no certificate", "  对方未提供证书";
    EvServerCert => "TLS: this server's self-signed certificate is {}, SHA-256 {}", "TLS：本服务器的自签名证书为 {}，SHA-256 {}";
    TlsEchoedHello => "the peer does not speak TLS: it sent our own TLS greeting (ClientHello) back, as an echo server does", "对方不是 TLS：它把我们的 TLS 问候（ClientHello）原样发回，像回显服务器那样";
    TlsKeyNotOfCert => "the key {} does not belong to the certificate {}: pick the key file made with that certificate", "私钥 {} 与证书 {} 不匹配：请选择与该证书一起生成的私钥文件";
    TlsNoKeyInFile => "{} holds no PEM private key", "{} 中没有 PEM 私钥";
    TlsCertificateRequired => "the server requires a client certificate and refused the connection without one (alert: certificate required): give a client certificate and its key", "服务器要求客户端证书，没有证书的连接被拒绝（警报：certificate required）：请提供客户端证书及其私钥";
    TlsPresented => "{}. The server's certificate: {}, SHA-256 {}. To trust exactly this certificate, pin its SHA-256 (Trust: This certificate; on the command line: --pin)", "{}。服务器的证书：{}，SHA-256 {}。要只信任这张证书，请固定它的 SHA-256（信任：此证书；命令行：--pin）";
    TlsNotPinned => "the server's certificate is not the pinned one (SHA-256 {})", "服务器的证书不是固定的那张（SHA-256 {}）";
    TlsPinnedTrust => "trusted as the pinned certificate (SHA-256)", "按固定的证书（SHA-256）信任";
    TlsBadPin => "{} is not a SHA-256 fingerprint: {}", "{} 不是 SHA-256 指纹：{}";
    TlsCaEmpty => "no CA file given: choose one, or another way to trust the server", "没有指定 CA 文件：请选择一个，或换一种信任方式";
    PinEmpty => "nothing typed", "没有输入";
    PinNotHex => "'{}' is not a hex digit", "“{}”不是十六进制数字";
    PinLength => "it has {} hex digits; a SHA-256 has 64 (32 bytes, AB:CD:…)", "它有 {} 位十六进制数字；SHA-256 应为 64 位（32 字节，AB:CD:…）";
    TlsPinMissing => "paste the SHA-256 of the certificate to trust, or take it from the certificate's file (…)", "请粘贴要信任的证书的 SHA-256，或从证书文件读取（…）";
    TlsServerCertMissing => "no certificate file given: choose the server's certificate (PEM), or make a self-signed one", "没有指定证书文件：请选择服务器证书（PEM），或使用自签名证书";
    TlsServerKeyMissing => "no key file given: choose the key of the certificate (PEM)", "没有指定私钥文件：请选择该证书的私钥（PEM）";
    ErrOnlyUdpJoins => "Only a UDP socket joins multicast groups", "只有 UDP 套接字能加入组播组";
    CtxMulticastOptions => "setting the multicast options of", "设置组播选项";
    ErrNoInterface => "There is no network interface called {}", "没有名为 {} 的网络接口";
    ErrNoInterfaceV4 => "Interface {} has no IPv4 address, so it cannot join an IPv4 group", "接口 {} 没有 IPv4 地址，无法加入 IPv4 组播组";
    ErrNotMulticast => "{} is not a multicast group: IPv4 groups are 224.0.0.0 to 239.255.255.255, IPv6 groups start with ff", "{} 不是组播地址：IPv4 组播为 224.0.0.0 到 239.255.255.255，IPv6 组播以 ff 开头";
    ErrGroupV4OnV6 => "{} is an IPv4 group and this socket is IPv6 ({}): bind to 0.0.0.0 to join it", "{} 是 IPv4 组播组，而本套接字是 IPv6（{}）：请绑定 0.0.0.0 再加入";
    ErrGroupV6OnV4 => "{} is an IPv6 group and this socket is IPv4 ({}): bind to :: to join it", "{} 是 IPv6 组播组，而本套接字是 IPv4（{}）：请绑定 :: 再加入";
    ErrSsmFamily => "The source of group {} must be of the same family as the group", "组播组 {} 的源地址必须与组地址同为 IPv4 或 IPv6";
    ErrSsmV6 => "Source-specific joins are offered for IPv4 groups; join the IPv6 group without a source", "仅 IPv4 组播支持指定源加入；请不指定源加入 IPv6 组";
    ErrNoSsm => "This OS has no source-specific multicast join", "此操作系统不支持指定源组播";
    ErrAlreadyJoined => "Group {} is joined already", "已经加入组播组 {}";
    ErrJoin => "Cannot join group {}: {}", "无法加入组播组 {}：{}";
    ErrLeave => "Cannot leave group {}: {}", "无法退出组播组 {}：{}";
    EvJoined => "Joined multicast group {}", "已加入组播组 {}";
    EvLeftGroup => "Left multicast group {}", "已退出组播组 {}";
    CtxOpening => "opening {}", "打开 {}";
    CtxReadingFile => "reading the file", "读取文件";
    CtxReadingFrom => "reading from {}", "从 {} 读取";
    CtxSendingTo => "sending to {}", "发送到 {}";
    ErrTimedSend => "Timed send stopped: {}", "定时发送已停止：{}";
    ErrInternal => "Internal error, session stopped: {}", "内部错误，会话已停止：{}";
    ErrOnlyServerListens => "Only a TCP server listens", "只有 TCP 服务器才能监听";
    ErrUdpToAddr => "UDP sends to an address, not a connection", "UDP 发送到地址，而不是连接";
    ErrTcpToConn => "TCP sends to a connection, not an address", "TCP 发送到连接，而不是地址";
    ClosePeer => "peer closed the connection", "对方关闭了连接";
    CloseReset => "connection reset by peer", "连接被对方重置";
    CloseLocal => "closed here", "本端关闭";
    EvBound => "Bound to {}", "已绑定 {}";
    EvListening => "Listening on {}", "正在监听 {}";
    EvFirewall => "Windows Defender Firewall may ask whether SockScope may use the network. \"Cancel\" blocks other machines without a word while this PC (127.0.0.1) still connects: to let devices on the LAN in, allow SockScope under Windows Security → Firewall & network protection → Allow an app through firewall.", "Windows Defender 防火墙可能会询问是否允许 SockScope 访问网络。选择“取消”会静默阻止其他机器，而本机（127.0.0.1）仍能连接：要让局域网设备连入，请在“Windows 安全中心 → 防火墙和网络保护 → 允许应用通过防火墙”中允许 SockScope。";
    EvConnecting => "Connecting to {} …", "正在连接 {} …";
    EvConnected => "Connected to {} from {}", "已连接 {}（本地 {}）";
    EvClientConnected => "{} connected", "{} 已连接";
    EvDisconnected => "Disconnected from {}: {}", "与 {} 的连接已断开：{}";
    EvLeft => "{} left: {}", "{} 已断开：{}";
    EvDropped => "{} UDP datagrams ({} bytes) dropped: the log fell behind", "丢弃了 {} 个 UDP 数据报（{} 字节）：日志处理不过来";
    EvStoppedListening => "Stopped listening", "已停止监听";
    EvPeerFinished => "{} finished sending (half-closed): it can still receive", "{} 已停止发送（半关闭）：仍可以接收数据";
    HalfClosedMark => "half-closed", "半关闭";
    KeepHalfClosed => "Keep half-closed connections", "保留半关闭的连接";
    TipKeepHalfClosed => "When a peer stops sending (shuts down its write side), keep the connection so you can still send to it. Off: a read of 0 closes it.", "对方停止发送（关闭写方向）时保留连接，仍可向它发送。不勾选：读到 0 字节即关闭连接。";
    EvFileSent => "File {} sent: {} bytes", "文件 {} 已发送：{} 字节";
    EvFileStopped => "File {} stopped at {} of {} bytes", "文件 {} 在 {} / {} 字节处停止发送";
    EvFileCutFor => "File {}: {} of {} bytes went to {} before its connection ended", "文件 {0}：连接结束前向 {3} 发送了 {1} / {2} 字节";
    EvFileSentTo => "File {} sent to {}: {} bytes", "文件 {} 已发送到 {}：{} 字节";
    FileToClients => "{} clients ({} bytes each)", "{} 个客户端（每个 {} 字节）";
    EvUdpClosed => "UDP socket {} closed", "UDP 套接字 {} 已关闭";
    Plain => "{}", "{}";
    MenuHelp => "Help", "帮助";
    ActionAbout => "About SockScope", "关于 SockScope";
    TipActionAbout => "Version and licence", "版本与许可证";
    AboutTitle => "About SockScope", "关于 SockScope";
    AboutVersion => "Version {}", "版本 {}";
    AboutWhat => "A TCP/UDP debugging assistant for embedded and IoT engineers: the window, and the same engine on the command line (sockscope --help).", "面向嵌入式与物联网工程师的 TCP/UDP 网络调试助手：图形窗口，以及同一引擎的命令行（sockscope --help）。";
    AboutLicence => "Licence: {}", "许可证：{}";
    AboutFont => "Chinese text uses Noto Sans CJK SC (SIL Open Font License 1.1).", "中文使用 Noto Sans CJK SC 字体（SIL 开放字体许可证 1.1）。";
    CliNotHostPort => "'{}' is not HOST:PORT", "“{}”不是“主机:端口”";
    CliCannotResolve => "Cannot find host {}: {}", "找不到主机 {}：{}";
    CliStdin => "Cannot read stdin: {}", "无法读取标准输入：{}";
    CliConsoleEscapes => "Received bytes that are not UTF-8 text show as \\xNN on this console; redirect the output to a file or a program (> out.bin) for the raw bytes", "收到的非 UTF-8 文本字节在控制台上显示为 \\xNN；要得到原始字节，请把输出重定向到文件或程序（> out.bin）";
    CliCannotRead => "Cannot read {}: {}", "无法读取 {}：{}";
    CliNoAnswer => "No answer within {}", "{} 内没有应答";
    CliClosedBeforeMatch => "The connection closed before the expected reply arrived", "期望的应答到达之前连接已关闭";
    CliStoppedBeforeMatch => "Stopped before the expected reply arrived", "期望的应答到达之前已停止";
    CliNoMatch => "The expected reply did not arrive within {}", "期望的应答未在 {} 内到达";
    CliUdpNeedsTo => "Nothing to send to: give --to HOST:PORT", "没有发送目标：请给出 --to 主机:端口";
    CliMissed => "{} records were not printed: the log's cap dropped them first", "{} 条记录未打印：日志容量上限已先将其丢弃";
    CliMoreBytes => "… {} B more (--json, --record and --pipe keep every byte)", "… 另有 {} B（--json、--record 和 --pipe 保留全部字节）";
    CliDidYouMean => " — did you mean '{}'?", "——是不是要用“{}”？";
    CliUnknownCommand => "'{}' is not a command, nor a profile file that exists{} (commands: connect, listen, udp, relay, run, test, bench; sockscope --help)", "“{}”不是命令，也不是存在的配置文件{}（命令：connect、listen、udp、relay、run、test、bench；见 sockscope --help）";
    CliUnknownScheme => "'{}': {}:// is not offered here: write HOST:PORT, or ws://HOST:PORT/PATH or wss://HOST:PORT/PATH for WebSocket", "“{}”：此处不支持 {}://：请写 主机:端口，WebSocket 请写 ws://主机:端口/路径 或 wss://主机:端口/路径";
    CliNoClosingBracket => "'{}' has no closing ']': write an IPv6 address as [::1]:PORT", "“{}”缺少右方括号“]”：IPv6 地址请写成 [::1]:端口";
    CliV6NeedsBrackets => "'{}': an IPv6 address with a port goes in brackets, as [::1]:PORT", "“{}”：带端口的 IPv6 地址要加方括号，如 [::1]:端口";
    CliNoHost => "'{}' has no host before the port", "“{}”在端口前没有主机";
    CliNoPort => "'{}' has no port after ':'", "“{}”在“:”后没有端口";
    CliPortZero => "'{}': port 0 cannot be connected to: give the server's port", "“{}”：无法连接端口 0：请给出服务器的端口";
    CliReconnectTooSoon => "--reconnect {}: the wait before connecting again must be at least {} (0 would try in a tight loop)", "--reconnect {}：重新连接前的等待至少为 {}（0 会不停地重试）";
    CliBackoffBelowOne => "--backoff {}: each wait is the one before times this, so it must be 1 or more (1 = the same wait each time)", "--backoff {}：每次等待是上一次乘以此值，须不小于 1（1 = 每次等待相同）";
    CliMaxWaitBelowFirst => "--max-wait {} is shorter than the first wait (--reconnect {}): give a --max-wait of at least {}", "--max-wait {} 短于第一次等待（--reconnect {}）：请给出至少 {} 的 --max-wait";
    CliInUrl => "In the URL '{}': {}", "URL“{}”中：{}";
    CliNeedsTls => "{} needs --tls (or a wss:// URL)", "{} 需要 --tls（或 wss:// 地址）";
    CliPipeCut => "The connection ended before everything was sent: {} of {} bytes went out", "连接在全部发送之前结束：{} / {} 字节已发出";
    CliStalled => "Nothing could be sent for {}: the peer does not read", "{} 内无法发送任何数据：对方不读取";
    RendererFellBack => "The window could not draw with {} ({}); trying {}", "窗口无法用 {} 绘制（{}）；改用 {}";
    NoWindowBox => "SockScope cannot open its window: {}.\n\nIt draws with OpenGL 2 or, where that is missing, Direct3D 12; an up-to-date graphics driver usually helps. The command line (sockscope-cli.exe) works without a window.", "SockScope 无法打开窗口：{}。\n\n窗口使用 OpenGL 2 绘制，没有时改用 Direct3D 12；更新显卡驱动通常可以解决。命令行（sockscope-cli.exe）不需要窗口也能使用。";
    CliUseConsoleProgram => "sockscope.exe is the window program: the shell does not wait for it nor get its exit code. In cmd, PowerShell and scripts use sockscope-cli.exe.", "sockscope.exe 是窗口程序：命令行不会等待它，也拿不到它的退出码。在 cmd、PowerShell 和脚本中请使用 sockscope-cli.exe。";
    CliNoWindow => "Cannot open the window: {}. Without a display, use a command (sockscope --help lists them).", "无法打开窗口：{}。没有显示器时请使用命令（sockscope --help 列出全部命令）。";
    CliUdpNoFraming => "UDP keeps each datagram as one message: --framing is for TCP", "UDP 每个数据报就是一条消息：--framing 只用于 TCP";
    CliUnknownQuick => "The profile has no quick command called '{}': it has {}", "配置文件中没有名为“{}”的快捷命令：现有 {}";
    CliNoQuick => "none", "无";
    CliProfileFailed => "Cannot open the profile: {}", "无法打开配置文件：{}";
    SavedPackets => "Saved {} records of data to {} (the log's messages are not packets)", "已将 {} 条数据记录保存到 {}（日志中的消息不是数据包）";
    CliUnknownArgument => "Unknown option '{}'{}", "未知选项“{}”{}";
    CliArgumentConflict => "'{}' cannot be used with '{}'", "“{}”不能与“{}”一起使用";
    CliMissingArgument => "Missing: {}", "缺少必需的参数：{}";
    CliInvalidValue => "'{}' is not a value for {}", "“{}”不是 {} 的有效值";
    CliQuickEmpty => "Quick command “{}” has nothing to send: its text is empty in the profile (the field is `text:`)", "快捷指令“{}”没有要发送的内容：配置文件中它的文本为空（字段名为 `text:`）";
    CliNotADuration => "'{}' is not a duration: write e.g. 500ms, 3s, 2min", "“{}”不是时长：请写如 500ms、3s、2min";
    CliTimeoutZero => "'{}': a timeout of 0 would fail at once: give e.g. 500ms, 3s", "“{}”：超时为 0 会立即失败：请给出如 500ms、3s";
    CliBadTtl => "'{}' is not a TTL: give 0 to 255", "“{}”不是有效的 TTL：请给出 0 到 255";
    CliEmptyExpect => "An empty expectation matches anything: give the text, hex or pattern to wait for", "空的期望内容会匹配任何数据：请给出要等待的文本、十六进制或正则表达式";
    CliUdpFamilies => "--bind {} is IPv{} and --to {} is IPv{}: one socket cannot send across (bind an address of the same family, or leave --bind out)", "--bind {} 是 IPv{}，而 --to {} 是 IPv{}：一个套接字不能跨地址族发送（请绑定同一地址族的地址，或不给 --bind）";
    CliSeeHelp => "For the options: sockscope COMMAND --help", "查看全部选项：sockscope 命令 --help";
    CliPipeIdle => "Nothing moved for {} after the end of stdin, and the peer did not close the connection", "标准输入结束后 {} 内没有数据往来，且对方未关闭连接";
    ErrRegex => "'{}' is not a regular expression: {}", "“{}”不是正则表达式：{}";
    ErrFramingSpec => "'{}' is not a framing: use none, crlf, lf, delim:TEXT, delim-hex:HEX (+keep), fixed:N, len:4le (+hdr, @OFFSET) or idle:MS", "“{}”不是分帧方式：可用 none、crlf、lf、delim:文本、delim-hex:十六进制（+keep）、fixed:N、len:4le（+hdr、@偏移）或 idle:毫秒";
    EvRecorded => "Recorded {} bytes to {}", "已记录 {} 字节到 {}";
    EvRecordFailedAtEnd => "Recording to {} failed at the end: {}", "记录到 {} 在结束时失败：{}";
    ErrHexDigit => "'{}' at column {} is not a hex digit", "第 {1} 列的“{0}”不是十六进制数字";
    ErrHexOdd => "odd number of hex digits ({}) at column {}: write them in pairs, e.g. 0123 or 01 23", "第 {1} 列的十六进制数字个数为奇数（{0}）：请成对书写，如 0123 或 01 23";
    ErrEscapeUnknown => "'\\{}' at column {} is not an escape: use \\r \\n \\t \\0 \\\\ or \\xHH", "第 {1} 列的“\\{0}”不是转义：请用 \\r \\n \\t \\0 \\\\ 或 \\xHH";
    ErrEscapeLone => "lone '\\' at column {}: write \\\\ for a backslash", "第 {} 列有单独的“\\”：反斜杠请写成 \\\\";
    ErrEscapeHex => "'\\x' at column {} needs two hex digits, e.g. \\x0D", "第 {} 列的“\\x”需要两位十六进制数字，如 \\x0D";
    ErrVarUnclosed => "'{{' at column {} has no closing '}}' (write \\{{ for literal braces)", "第 {} 列的“{{”没有对应的“}}”（字面的大括号请写成 \\{{）";
    ErrFieldNoFrame => "{{f.{}}} at column {} takes a field of a received frame: none has come yet (pick a row in the log, or wait for one)", "第 {1} 列的 {{f.{0}}} 取自收到的帧的字段：还没有收到帧（在日志中选中一行，或等待一帧）";
    FieldNotCyclic => "{{f.{}}} takes a field of the frame picked when you press Send (or a quick command); a cyclic send and a sequence do not take one", "{{f.{}}} 在按“发送”（或快捷指令）时取所选帧的字段；循环发送和序列不取";
    ErrFieldNoProtocol => "{{f.{}}} at column {} reads a decoded field: choose the protocol in Decode as", "第 {1} 列的 {{f.{0}}} 读取解码后的字段：请先在“按协议解码”中选择协议";
    ErrFieldFrameUnfit => "{{f.{}}} at column {}: {}", "第 {1} 列的 {{f.{0}}}：{2}";
    FieldPickedSent => "the row picked in the log is one you sent: pick a received frame", "日志中选中的是发送的行：请选择一条收到的帧";
    FieldPickedBroken => "the row picked in the log is not a whole {} frame: pick another", "日志中选中的行不是完整的 {} 帧：请选择其他行";
    ErrFieldNotInFrame => "{{f.{}}} at column {}: the frame it is taken from has no such field", "第 {1} 列的 {{f.{0}}}：所取的帧没有这个字段";
    ErrVarUnknown => "unknown variable '{{{}}}' at column {}: use counter, time, unixtime, random:LO:HI, hex:BYTES or f.FIELD", "未知变量“{{{0}}}”（第 {1} 列）：可用 counter、time、unixtime、random:LO:HI、hex:BYTES 或 f.字段";
    ErrNothingToSend => "Nothing to send: the send box is empty", "没有可发送的内容：发送框为空";
    ErrEmptyDelimiter => "the delimiter is empty: give at least one byte, e.g. 0D 0A", "分隔符为空：至少要有一个字节，如 0D 0A";
    ErrZeroLength => "a frame length or idle gap must be at least 1", "帧长度或空闲间隔至少为 1";
    ErrFrameTooLong => "{} bytes is more than the largest frame ({} bytes)", "{} 字节超过了最大帧长（{} 字节）";
    ErrWidth => "a length field has 1, 2, 4 or 8 bytes, not {}", "长度字段只能是 1、2、4 或 8 字节，不能是 {}";
    ErrLengthTooLong => "length {} does not fit in a {}-byte prefix", "长度 {} 放不进 {} 字节的前缀";
    ExprKindInt => "a number", "数值";
    ExprKindBytes => "bytes", "字节";
    ExprKindText => "text", "文本";
    ExprKindBool => "true/false", "真/假";
    ExprAValue => "a value", "一个值";
    ExprBadNumber => "'{}' at column {} is not a number", "第 {1} 列的“{0}”不是数字";
    ExprUnclosedString => "the text started at column {} has no closing '\"'", "第 {} 列开始的文本缺少结尾的“\"”";
    ExprUnexpected => "unexpected '{}' at column {}", "第 {1} 列出现意外的“{0}”";
    ExprExpected => "expected {} at column {}", "第 {1} 列应为 {0}";
    ExprTooDeep => "more than {} nested levels", "嵌套超过 {} 层";
    ExprUnknownFunc => "unknown function '{}' at column {}: use u8, u16be, u16le, u32be, u32le, u64be, u64le, i8 … i64le, hex or len", "未知函数“{}”（第 {} 列）：可用 u8、u16be、u16le、u32be、u32le、u64be、u64le、i8 … i64le、hex 或 len";
    ExprOneArgument => "'{}' at column {} takes one argument", "第 {1} 列的“{0}”只接受一个参数";
    ExprUnknownName => "unknown name '{}' at column {}: use rx, rx.len, rx.u16be@N, rx[A..B], cap.N, state, peer.ip, peer.port, table.NAME, counter, time or unixtime", "未知名称“{}”（第 {} 列）：可用 rx、rx.len、rx.u16be@N、rx[A..B]、cap.N、state、peer.ip、peer.port、table.名称、counter、time 或 unixtime";
    ExprNeeds => "needs {} here, not {}", "此处需要{}，而不是{}";
    FieldValueNeverFits => "{} never fits the field '{}' ({}: {} to {})", "{} 永远放不进字段“{}”（{}：{} 到 {}）";
    ExprTextNoNumber => "compares numbers, and the text \"{}\" holds none", "比较的是数字，而文本“{}”不是数字";
    ExprPastEnd => "offset {} is outside a {}-byte value", "偏移 {} 超出了 {} 字节的数据";
    ExprPastEndRange => "bytes {}..{} are past the end of a {}-byte value", "第 {}..{} 字节超出了 {} 字节数据的末尾";
    ExprNoTable => "no table named '{}'", "没有名为“{}”的表";
    ExprNoVar => "no variable '{}': capture it in an earlier step", "没有变量“{}”：请在前面的步骤中捕获它";
    ExprNoField => "no field '{}' in this message (pick a protocol, or check the name)", "此消息中没有字段“{}”（请选择协议，或检查字段名）";
    RuleNoField => "no field '{}' in {}", "{1} 中没有字段“{0}”";
    RuleNoFieldNear => "no field '{}' in {} (did you mean '{}'?)", "{1} 中没有字段“{0}”（是不是“{2}”？）";
    RuleFieldNoProtocol => "f.{} reads a decoded field, but the session has no protocol (choose one in Decode as, or protocol: in the profile)", "f.{} 读取解码字段，但会话没有选择协议（请在“解码为”中选择，或在配置文件中写 protocol:）";
    RuleReplyNoProtocol => "a reply built by fields needs the session's protocol (choose one in Decode as, or protocol: in the profile)", "按字段构造的应答需要会话的协议（请在“解码为”中选择，或在配置文件中写 protocol:）";
    RuleReplyEncode => "the frame could not be built from its fields: {}", "无法按字段构造帧：{}";
    RuleReplyValue => "the value of '{}' ({}): {}", "“{}”的值（{}）：{}";
    ProfileRuleAt => "{}:{}:{}: {}", "{}:{}:{}：{}";
    SpecErrorAt => "spec line {}, column {}: {}", "协议描述第 {} 行第 {} 列：{}";
    SpecErrorField => "spec line {}, column {}, field '{}': {}", "协议描述第 {} 行第 {} 列，字段“{}”：{}";
    SpecNoName => "the spec has no name (name: \"…\")", "协议描述没有名称（name: \"…\"）";
    SpecNoFieldName => "a field has no name", "有字段没有名称";
    SpecTwice => "two fields are named '{}' here (give one a 'when' or another name)", "此处有两个名为“{}”的字段（给其中一个加 when 条件或改名）";
    SpecTooLong => "a length of {} is more than a frame can hold", "长度 {} 超过一帧能容纳的大小";
    SpecBadText => "'{}' is not text this field can look for", "“{}”不是此字段可查找的文本";
    SpecBadType => "'{}' is not a type a field can have", "“{}”不是字段可用的类型";
    SpecNeedsLen => "a '{}' field needs a length: len, until, prefix or run", "“{}”字段需要长度：len、until、prefix 或 run";
    SpecOneLen => "give one length only: len, until, prefix or run", "只能给出一种长度：len、until、prefix 或 run";
    SpecNoEnum => "no enum named '{}' in 'enums'", "enums 中没有名为“{}”的枚举";
    SpecNoLayout => "no layout named '{}' in 'layouts'", "layouts 中没有名为“{}”的布局";
    SpecLayoutLoop => "the layout '{}' contains itself", "布局“{}”包含了它自己";
    SpecRestNotLast => "a '*' length can only be followed by fields of known size", "“*”长度之后只能跟长度已知的字段";
    SpecBitsNeed => "a bit field needs 'start' and 'width'", "位字段需要 start 和 width";
    SpecBitsFit => "a bit field from bit {}, {} bits wide, does not fit in a {}-bit number", "从第 {} 位起 {} 位宽的位字段放不进 {} 位的数";
    SpecConstNeeds => "a 'const' field needs its bytes: hex: \"7E\" or text: \"##\"", "const 字段需要给出字节：hex: \"7E\" 或 text: \"##\"";
    SpecNoFields => "a 'repeat' needs fields (fields: […] or layout: \"…\")", "repeat 需要字段（fields: […] 或 layout: \"…\"）";
    SpecFieldsOrLayout => "give 'fields' or 'layout', not both", "fields 和 layout 只能给一个";
    SpecSwitchNeeds => "a 'switch' needs 'on' (the value that picks a case)", "switch 需要 on（选择分支的值）";
    SpecComputedNeeds => "a 'computed' field needs 'value' (an expression)", "computed 字段需要 value（表达式）";
    SpecChecksumNeeds => "a 'checksum' needs 'algo' and 'over' (\"first..last\")", "checksum 需要 algo 和 over（\"首字段..末字段\"）";
    SpecBadAlgo => "{} is not a checksum that can be computed", "{} 不是可计算的校验算法";
    SpecBadEncoding => "'{}' is not a text encoding (ascii, utf-8, gbk, gb18030)", "“{}”不是文本编码（ascii、utf-8、gbk、gb18030）";
    SpecSepNeeds => "this field needs its separators ('sep', and 'eq' for key=value)", "此字段需要分隔符（sep，键值对还要 eq）";
    SpecKeyValues => "key '{}': name an enum of 'enums' here, not a list", "键“{}”：这里请引用 enums 中的枚举名，而不是列表";
    SpecNotColumn => "only text columns (text, int, dec, ddmm, hhmmss, ddmmyy, hex), computed fields and repeats go in a 'csv'", "csv 中只能有文本列（text、int、dec、ddmm、hhmmss、ddmmyy、hex）、计算字段和 repeat";
    SpecScaleNeedsNumber => "scale, offset and decimals apply to numbers, BCD digits and numeric text, not to a '{}'", "scale、offset 和 decimals 只用于数值、BCD 数字和数字文本，不能用于“{}”";
    SpecSignedBcd => "'signed' marks the sign bit of a 'bcd', not of a '{}' (integers take i8 … i64)", "signed 用于标出 bcd 的符号位，不能用于“{}”（有符号整数请用 i8 … i64）";
    SpecRangeBackwards => "'{0}..{1}' in '{2}' ends before it begins: '{1}' comes before '{0}' in the frame (write '{1}..{0}')", "{2} 中的“{0}..{1}”终点在起点之前：帧中“{1}”在“{0}”之前（应写“{1}..{0}”）";
    SpecBadHex => "hex: \"{}\" is not hex bytes: {}", "hex: \"{}\" 不是十六进制字节：{}";
    CliSpecFirstError => "(the first mistake found; fix it and check again: there may be more)", "（这是找到的第一个错误；改正后请再检查：可能还有更多）";
    SpecUnknownField => "'{}' in '{}' is not a field read before this one", "{1} 中的“{0}”不是在此之前读到的字段";
    SpecUnknownTarget => "'{}' in '{}' is not a field of this spec", "{1} 中的“{0}”不是本协议描述中的字段";
    SpecDidYouMean => " (did you mean '{}'?)", "（是不是“{}”？）";
    ProtoStopped => "decoding stopped at field '{}' (byte {}): {}", "解码停在字段“{}”（第 {} 字节）：{}";
    ProtoShort => "needs {} bytes, {} left", "需要 {} 字节，只剩 {} 字节";
    ProtoShortOne => "needs {} byte, {} left", "需要 {} 字节，只剩 {} 字节";
    EncodeSizeGiven => "takes {} bytes, {} given", "需要 {} 字节，给出了 {} 字节";
    EncodeTextTooLong => "holds at most {} bytes, {} given", "最多 {} 字节，给出了 {} 字节";
    ProtoBadEscape => "invalid escape {} at byte {}", "无效的转义序列 {}（第 {} 字节）";
    ProtoBadLength => "{} is not a length", "{} 不是有效长度";
    ProtoNotBcd => "{} is not BCD: digit {} is not 0–9", "{} 不是 BCD：数字 {} 不在 0–9 之间";
    ProtoInvalid => "field '{}' (byte {}): {}", "字段“{}”（第 {} 字节）：{}";
    ProtoLengthSays => "the length field says {} bytes, {} are there", "长度字段为 {} 字节，实际有 {} 字节";
    ProtoCountSays => "the count field says {} items, {} are there", "数量字段为 {} 项，实际有 {} 项";
    ProtoTooDeep => "fields nest deeper than {}", "字段嵌套超过 {} 层";
    ProtoColumn => "column {}", "第 {} 列";
    ProtoExtra => "extra bytes", "多余字节";
    ProtoRaw => "not described", "未描述";
    ProtoUndecoded => "undecoded", "未解码";
    ProtoUnknownValue => "(unknown)", "（未知）";
    ProtoNoFlags => "none set", "无";
    ProtoNoBytes => "(none)", "（无）";
    ProtoCheckOk => "{} √ {}", "{} √（{}）";
    ProtoCheckBad => "{} × {} expected ({})", "{} × 应为 {}（{}）";
    ProtoCheckInstead => "it is the {} of the data, not the {}", "它是数据的 {}，而不是 {}";
    ProtoLeftOver => "{} bytes after the frame's end (from byte {}), not decoded", "帧结束后还有 {} 字节（从第 {} 字节起）未解码";
    ProtoLeftOverOne => "{} byte after the frame's end (byte {}), not decoded", "帧结束后还有 {} 字节（第 {} 字节）未解码";
    ProtoNotAFrame => "{} bytes from byte {} are not a {} frame", "从第 {1} 字节起的 {0} 字节不是 {2} 帧";
    ProtoNotAFrameOne => "{} byte at byte {} is not a {} frame", "第 {1} 字节（{0} 字节）不是 {2} 帧";
    ProtoItems => "{} items", "{} 项";
    ProtoItemsOne => "{} item", "{} 项";
    ProtoItemValues => "{}: {}", "{}：{}";
    ProtoBytes => "{} bytes", "{} 字节";
    ProtoBytesOne => "{} byte", "{} 字节";
    ProtoBits => "{} bits", "{} 位";
    ProtoBitsOne => "{} bit", "{} 位";
    ProtoDigits => "{} digits", "{} 位数字";
    ProtoDigitsOne => "{} digit", "{} 位数字";
    ProtoMismatch => "{} (expected {})", "{}（应为 {}）";
    ProtoEncodeMissing => "no value for field '{}'", "字段“{}”没有值";
    ProtoEncodeBad => "field '{}': {}", "字段“{}”：{}";
    CutMarkerEmpty => "a start or end marker needs at least one byte", "起始或结束标记至少需要一个字节";
    CutNoLength => "no length to try", "没有可尝试的长度";
    CutNoChecksum => "no checksum to tell the lengths apart", "没有用来区分长度的校验";
    CutZeroLength => "a frame length of 0", "帧长度为 0";
    CutLengthWidth => "a length field of {} bytes (1 to 4)", "长度字段为 {} 字节（应为 1 到 4）";
    CutLengthDigits => "a length of {} digits (1 to 9)", "长度为 {} 位数字（应为 1 到 9）";
    CutBadEscape => "{} → {}: escape one byte as one or more bytes", "{} → {}：转义须把一个字节换成一个或多个字节";
    ProtoNoProtocol => "no protocol named '{}' (built in: {})", "没有名为“{}”的协议（内置：{}）";
    ProtoPcapBad => "not a capture file tcpdump or Wireshark wrote (pcap or pcapng): {}", "不是 tcpdump 或 Wireshark 写的抓包文件（pcap 或 pcapng）：{}";
    CliDecodeNothing => "nothing to decode: give HEX, --file CAPTURE, or hex lines on stdin", "没有可解码的内容：请给出 HEX、--file 抓包文件，或在标准输入逐行给出十六进制";
    CliStdinLine => "line {} of stdin: {}", "标准输入第 {} 行：{}";
    CliPcapGap => "{} → {}: {} bytes of the stream are not in the capture; the frame across them is cut", "{} → {}：数据流中有 {} 字节不在抓包中；跨越它们的帧不完整";
    CliDecodeTextHint => "{} (a frame that is text, such as HJ 212's ##… or NMEA's $…, goes after --text)", "{}（文本帧，如 HJ 212 的 ##… 或 NMEA 的 $…，请用 --text 给出）";
    CliDecodeNoFrames => "{}: no TCP or UDP payload in this capture", "{}：此抓包中没有 TCP 或 UDP 载荷";
    CliDecodeTotal => "{} frames: {} decoded to the end with their checks holding, {} not", "共 {} 帧：{} 帧完整解码且校验通过，{} 帧没有";
    CliDecodeTotalOne => "{} frame: {} decoded to the end with its checks holding, {} not", "共 {} 帧：{} 帧完整解码且校验通过，{} 帧没有";
    CliSpecLoads => "{}: spec '{}' loads ({} fields, {} layouts)", "{}：协议描述“{}”可以使用（{} 个字段，{} 个布局）";
    CliProtocolsHead => "Built-in protocols (use with --protocol NAME; export one with --export NAME):", "内置协议（用 --protocol 名称 选用；用 --export 名称 导出）：";
    ProtocolLabel => "Decode as", "按协议解码";
    ProtocolNone => "None", "无";
    TipProtocol => "Decode each message as named fields with this protocol: a summary after each row, the field tree beside the hex dump of the selected one. With framing None, the protocol's own frame layer cuts the stream.", "用此协议把每条消息解码成具名字段：每行后显示摘要，选中消息的十六进制旁显示字段树。分包方式为“无”时，按协议自己的帧格式切分数据流。";
    ProtocolClientLabel => "Client → upstream", "客户端 → 上游";
    TipProtocolClient => "Decode what clients send with this protocol (and what the upstream sends back, unless Upstream → client says otherwise).", "用此协议解码客户端发出的数据（上游回送的数据也用它，除非“上游 → 客户端”另选）。";
    ProtocolUpstreamLabel => "Upstream → client", "上游 → 客户端";
    TipProtocolUpstream => "Decode what the upstream server sends back with another protocol (a gateway that speaks one protocol to its devices and gets another back)", "用另一个协议解码上游服务器回送的数据（如网关对设备说一种协议、收到的是另一种）";
    ProtocolSameAsClient => "Same as client → upstream", "与客户端 → 上游相同";
    ShowAsColumn => "Show as column", "作为列显示";
    RemoveColumn => "Remove column", "移除此列";
    FieldColumns => "Columns:", "列：";
    TipRemoveColumn => "Stop showing this field as a column (right-click a field in the detail's tree to add one)", "不再把此字段显示为列（在详情的字段树中右键点击字段可添加列）";
    ExportFieldsCsv => "Fields of this message kind (CSV)…", "此类消息的字段（CSV）…";
    TipExportFieldsCsv => "A column per field of the selected message (time, direction, peer, then each field: a quantity as a number with its unit in the header, other values as shown), one line per message of the same kind among the rows shown (Show narrows them). Select a decoded message first.", "按所选消息的字段分列（时间、方向、对端，然后是各字段：数量写成数字、单位在表头，其他值按显示写出），显示的行中每条同类消息一行（“显示”可缩小范围）。请先选中一条已解码的消息。";
    FieldExportNoFields => "Select a decoded message first: its fields are the columns", "请先选中一条已解码的消息：它的字段就是各列";
    FieldExportDone => "Exported {} messages by field to {}", "已按字段导出 {} 条消息到 {}";
    FieldExportLost => "Exported {} messages by field to {}, but the log's cap took {} records before they were written", "已按字段导出 {} 条消息到 {}，但日志上限在写出前清除了 {} 条记录";
    ActionPlot => "Plot…", "绘图…";
    TipActionPlot => "Plot decoded fields live: add a numeric field from the list, or right-click a number in a message's field tree → Plot", "实时绘制解码字段：从列表添加数值字段，或在消息的字段树中右键数值 → 绘图";
    PlotTitle => "Plot", "绘图";
    PlotField => "Plot", "绘图";
    PlotAdd => "Add field", "添加字段";
    TipPlotAdd => "The protocol's numeric fields; a field that occurs several times in a message (an item of a repeat) is plotted at its first occurrence — right-click an item in the field tree to plot that one", "协议的数值字段；一条消息中出现多次的字段（重复组中的项）按第一次出现绘制——在字段树中右键某一项可绘制该项";
    PlotNoFieldsYet => "No decoded frame in the log yet: its numeric fields are listed here once one arrives (or right-click a number in the field tree)", "日志中还没有解码的帧：收到一帧后，这里会列出它的数值字段（也可在字段树中右键点击一个数值）";
    TipPlotSeenIn => "Seen in: {}", "见于：{}";
    PlotNoProtocol => "Choose a protocol (Receive → Decode as) to plot its fields", "请先选择协议（接收 → 解码为）才能绘制其字段";
    PlotX => "X:", "X 轴：";
    PlotXTime => "Time", "时间";
    PlotXSample => "Sample", "样本序号";
    TipPlotX => "What X is: the time a message was received, the value's number in its series, or another plotted field of the same message", "X 轴：消息接收时间、数值在序列中的序号，或同一消息中另一个已绘制的字段";
    PlotStacked => "Stacked", "分层";
    TipPlotStacked => "One plot per field, their X axes linked; off: one plot with a legend", "每个字段一个图，X 轴联动；关闭：所有字段画在一个带图例的图中";
    PlotPause => "Pause plot", "暂停绘图";
    TipPlotPause => "Freeze the view: values are still collected and show when you resume", "冻结视图：数值照常收集，恢复后显示";
    PlotPaused => "Paused: new values are collected, not drawn", "已暂停：新数值照常收集，暂不绘制";
    PlotResetView => "Reset view", "复位视图";
    TipPlotResetView => "Fit the view to the data again (after zooming with Ctrl + wheel or a right-button box, or panning by dragging); a double-click does the same", "重新让视图适应数据（在 Ctrl + 滚轮或右键框选缩放、拖动平移之后）；双击效果相同";
    PlotExport => "Export CSV…", "导出 CSV…";
    TipPlotExport => "The series as CSV: time, sample, then a column per field (a line per message)", "将序列导出为 CSV：时间、样本序号，然后每个字段一列（每条消息一行）";
    TipPlotRemove => "Stop plotting this field", "停止绘制此字段";
    PlotEmpty => "No field plotted yet: Add field, or right-click a number in a message's field tree → Plot", "尚未绘制字段：点“添加字段”，或在消息的字段树中右键数值 → 绘图";
    PlotPoints => "{} points", "{} 个点";
    PlotDropped => "{} oldest points dropped (each field keeps {})", "已丢弃 {} 个最旧的点（每个字段最多保留 {} 个）";
    PlotLost => "{} records left the log before they were plotted", "{} 条记录在绘制前已被日志清除";
    PlotCatchingUp => "catching up: {} records to decode", "追赶中：还有 {} 条记录待解码";
    PlotExported => "Plot exported: {} lines to {}", "已导出绘图数据：{} 行到 {}";
    PlotExportFailed => "Could not export the plot to {}: {}", "无法将绘图数据导出到 {}：{}";
    FieldExportFailed => "Could not export to {}: {}", "无法导出到 {}：{}";
    IoNotFound => "No such file or directory", "文件或目录不存在";
    IoPermissionDenied => "Permission denied", "没有权限";
    FieldExportDoneShown => "Exported {} messages by field to {}: only the rows shown (Show {} hides the others; clear Show to export them all)", "已按字段导出 {} 条消息到 {}：仅导出显示的行（“显示” {} 隐藏了其余的行；清空“显示”即可全部导出）";
    CsvTime => "time", "时间";
    CsvDirection => "direction", "方向";
    CsvPeer => "peer", "对端";
    CsvRx => "rx", "收";
    CsvTx => "tx", "发";
    ExportingFields => "Exporting fields… {}%", "正在按字段导出… {}%";
    OpenSpecFile => "Open spec file…", "打开协议描述文件…";
    TipOpenSpecFile => "Decode with a protocol spec (.ron) you wrote or edited; export a built-in with Export spec… to start from one", "用你编写或修改的协议描述文件（.ron）解码；可先用“导出协议描述…”导出一个内置协议作为起点";
    ExportSpec => "Export spec…", "导出协议描述…";
    TipExportSpec => "Save the chosen built-in protocol's spec file, to edit it and open it again with Open spec file…", "保存所选内置协议的描述文件，编辑后可用“打开协议描述文件…”再打开";
    TipExportSpecNone => "Choose a built-in protocol first: its spec is what is saved", "请先选择一个内置协议：保存的是它的描述文件";
    ReloadSpec => "Reload", "重新读取";
    TipReloadSpec => "Read the spec file again (it is also read again by itself when it changes)", "重新读取协议描述文件（文件改动后也会自动重新读取）";
    DialogOpenSpec => "Open a protocol spec", "打开协议描述文件";
    DialogExportSpec => "Export the protocol spec", "导出协议描述文件";
    DialogSpecFilter => "Protocol spec (*.ron)", "协议描述文件 (*.ron)";
    SpecExported => "Protocol spec '{}' saved to {}: edit it, then open it with Decode as → Open spec file…", "协议描述“{}”已保存到 {}：编辑后可通过 按协议解码 → 打开协议描述文件… 使用";
    SpecExportFailed => "Could not save the protocol spec to {}: {}", "无法把协议描述保存到 {}：{}";
    ExprNoCapture => "no capture '{}': the rule's regular expression has no such group, or it did not take part", "没有捕获组“{}”：规则的正则表达式没有该组，或该组未参与匹配";
    ExprDoesNotFit => "{} does not fit in {}", "{} 放不进 {}";
    ExprOverflow => "the number is too large", "数值过大";
    ExprDivZero => "division by zero", "除数为零";
    RuleBadSource => "'{}' is not an address: use 10.0.0.5, 10.0.0.0/8, :502, 10.0.0.5:502 or [::1]:80", "“{}”不是地址：可用 10.0.0.5、10.0.0.0/8、:502、10.0.0.5:502 或 [::1]:80";
    RuleTooDeep => "conditions nested more than {} levels", "条件嵌套超过 {} 层";
    RuleMaskLength => "the value has {} bytes but the mask {}: give both the same length", "值有 {} 字节而掩码有 {} 字节：两者长度须相同";
    RuleBadIntType => "'{}' is not an integer type: use u8, i8, u16be, u16le, i16be … u64le, i64le", "“{}”不是整数类型：可用 u8、i8、u16be、u16le、i16be … u64le、i64le";
    RuleBadPeer => "'{}' is not a peer: write 192.168.1.20:5000, or 192.168.1.20 for its first connection", "“{}”不是对端地址：请写 192.168.1.20:5000，或写 192.168.1.20 表示其第一个连接";
    RuleNoPeer => "no client {} is connected: the reply was not sent", "没有已连接的客户端 {}：应答未发送";
    RuleNumbered => "rule {}", "规则 {}";
    RuleBadTable => "table '{}': {}", "表“{}”：{}";
    RuleFailed => "Rule “{}”: {}", "规则“{}”：{}";
    Automation => "Automation", "自动化";
    TipSparkline => "Bytes per second, in and out, over the last minute; click for the chart of the last ten minutes", "最近一分钟每秒收发字节数；点击查看最近十分钟的图表";
    RateChart => "Rate chart", "速率图表";
    ChartOf => "Rate of", "速率对象";
    ChartSession => "the whole session", "整个会话";
    ChartSecondsAgo => "seconds ago", "秒前";
    ChartRx => "RX B/s", "接收 B/s";
    ChartTx => "TX B/s", "发送 B/s";
    ActionLoad => "Load generator…", "压力测试…";
    TipActionLoad => "Many connections or datagrams against a server, with latency percentiles and charts", "对服务器发起大量连接或数据报，给出延迟百分位和图表";
    DialogLoadReport => "Save the load report", "保存压力测试报告";
    EvLoadSaved => "Saved the load report to {}", "压力测试报告已保存到 {}";
    LoadTitle => "Load generator", "压力测试";
    LoadTarget => "Target", "目标";
    LoadMode => "Mode", "模式";
    LoadThroughput => "throughput", "吞吐";
    LoadPingPong => "ping-pong", "一问一答";
    LoadEcho => "echo check", "回显校验";
    LoadConnections => "Connections", "连接数";
    LoadPerRequest => "new one per request", "每个请求新建连接";
    TipLoadPerRequest => "Short connections: connect, send, get the reply, close — for each request", "短连接：每个请求都连接、发送、收应答、断开";
    LoadRate => "Rate", "速率";
    LoadRateIs => "= {} requests/s", "= {} 请求/秒";
    LoadRateHint => "no limit", "不限";
    PlotNoPairs => "{} never comes in a message with {}: with X = another field, a point is one message's two values", "{} 从未与 {} 出现在同一条消息中：X 为另一字段时，每个点是同一条消息的两个值";
    FieldValuesLine => "line {}: '{}' is not 'field = expression' (body.result = 0)", "第 {} 行：“{}”不是“字段 = 表达式”（如 body.result = 0）";
    ReplyByFields => "A frame of the session's protocol, built by these fields (one 'field = expression' a line; lengths, checksums and escaping computed). The payload is not used.", "会话协议的一帧，按这些字段构造（每行一个“字段 = 表达式”；长度、校验、转义自动计算）。不使用内容。";
    ReplyByFieldsFresh => "Start from no field (not the request's own)", "从空字段开始（不沿用请求的字段）";
    ReplyUsePayload => "Use a payload instead", "改用内容";
    TipLoadRate => "Requests per second in all (or bytes per second: 10MB/s, 512KB/s, divided by the request's length); 0 = as fast as possible", "每秒请求总数（或每秒字节数：10MB/s、512KB/s，按请求长度折算）；0 = 尽可能快";
    LoadRamp => "ramp", "爬升";
    LoadDuration => "Duration", "时长";
    LoadTimeout => "Reply timeout", "应答超时";
    LoadCount => "Count", "次数";
    TipLoadCount => "Requests to send; 0 = as many as the duration allows", "要发送的请求数；0 = 时长内尽量多";
    LoadRequest => "Request", "请求";
    LoadStart => "Start load", "开始测试";
    LoadStop => "Stop load", "停止测试";
    LoadSaveCsv => "Save CSV…", "保存 CSV…";
    LoadSaveJson => "Save JSON…", "保存 JSON…";
    LoadLive => "{} s · sent {} · received {} · failed {} · in flight {} · p50 {} µs · p99 {} µs", "{} 秒 · 发送 {} · 接收 {} · 失败 {} · 在途 {} · p50 {} µs · p99 {} µs";
    LoadRateTitle => "Requests per second", "每秒请求数";
    LoadLatencyTitle => "Reply latency (log scale)", "应答延迟（对数刻度）";
    LoadReply => "Reply holds", "应答包含";
    LoadReplyAny => "anything", "任意";
    LoadReplyText => "contains text", "含文本";
    LoadReplyHex => "contains hex", "含字节";
    LoadReplyRegex => "regex", "正则";
    LoadReplyBad => "Reply condition: {}", "应答条件：{}";
    TipLoadReply => "Ping-pong: a reply counts only if it holds this (text, hex bytes with ?? for any byte, or a regular expression) — as sockscope bench --expect, --expect-hex, --expect-regex; a reply that never does is a wrong reply", "一问一答：应答须包含此内容才算数（文本、十六进制字节（?? 表示任意字节）或正则表达式）——同 sockscope bench --expect、--expect-hex、--expect-regex；始终不符的应答记为应答错误";
    TipLoadReplyPingPong => "Only ping-pong checks a reply condition (echo checks the reply equals the request)", "只有一问一答检查应答条件（回显校验检查应答与请求相同）";
    TipLoadTarget => "HOST:PORT, e.g. 127.0.0.1:9000; udp://HOST:PORT for UDP, tls://HOST:PORT for TLS, ws://HOST:PORT/PATH or wss://HOST:PORT/PATH for WebSocket (each request one message)", "主机:端口，例如 127.0.0.1:9000；UDP 写 udp://主机:端口，TLS 写 tls://主机:端口，WebSocket 写 ws://主机:端口/路径 或 wss://主机:端口/路径（每个请求一条消息）";
    LoadPerSecond => "per second", "每秒";
    LoadSent => "sent", "发送";
    LoadReceived => "received", "接收";
    LoadFailed => "failed", "失败";
    LoadNoReport => "No load run has finished yet", "还没有完成的压力测试";
    CauseRefused => "refused", "被拒绝";
    CauseTimeout => "timed out", "超时";
    CauseReset => "reset", "被重置";
    CauseClosed => "closed by the peer", "被对方关闭";
    CauseMismatch => "wrong reply", "应答不符";
    CauseUnreachable => "unreachable", "不可达";
    CauseOther => "other errors", "其他错误";
    CauseTls => "TLS failed", "TLS 失败";
    CauseWebSocket => "WebSocket failed", "WebSocket 失败";
    BenchSummaryProblem => "          first: {}", "          首个：{}";
    BenchSummaryOpenAtEnd => "          {} connections were still open when the run stopped waiting for the server to close them: what was sent on them last may not have been read", "          结束时仍有 {} 个连接未被服务器关闭（已停止等待）：最后发出的数据服务器可能未读到";
    BenchSummaryInFlightWritten => "in flight {} (taken, not written whole when the run ended: not among the bytes sent)", "在途      {}（已取出、结束时尚未写完：不计入发送字节）";
    BenchSummaryUnsentCut => "          {} bytes on the wire (TLS and WebSocket framing included) were still in the kernel for connections the server closed or reset during the run: they never reached it", "          运行中被服务器关闭或重置的连接上，仍有 {} 字节（线路字节，含 TLS 与 WebSocket 封装）在内核中，未到达服务器";
    BenchSummaryStoppedOpen => "          {} connections were cut by Stop: what was sent on them last may not have been read", "          {} 个连接被停止操作切断：最后发出的数据服务器可能未读到";
    BenchWsClosedBy => "the server closed the WebSocket: {} ({}) {}", "服务器关闭了 WebSocket：{}（{}）{}";
    BenchSummaryStopped => "stopped before the end (Stop or Ctrl+C)", "提前停止（停止按钮或 Ctrl+C）";
    BenchSummaryUnsentAtEnd => "          {} bytes on the wire (TLS and WebSocket framing included) were still in the kernel for them: they had not reached the server", "          其中仍有 {} 字节（线路字节，含 TLS 与 WebSocket 封装）在内核中，尚未到达服务器";
    BenchTlsClosed => "the server closed the connection during the TLS handshake: does it speak TLS on this port? (tls:// and wss:// speak TLS; a plain port is HOST:PORT or ws://)", "TLS 握手过程中服务器关闭了连接：服务器在此端口上使用 TLS 吗？（tls:// 与 wss:// 使用 TLS；普通端口请写 主机:端口 或 ws://）";
    BenchNoTlsAnswer => "no TLS answer in {} s: does the server speak TLS on this port? (tls:// and wss:// speak TLS; a plain port is HOST:PORT or ws://)", "{} 秒内没有 TLS 应答：服务器在此端口上使用 TLS 吗？（tls:// 与 wss:// 使用 TLS；普通端口请写 主机:端口 或 ws://）";
    BenchNoUpgradeAnswer => "no answer to the WebSocket upgrade in {} s: is it a WebSocket server, and is the path right?", "{} 秒内 WebSocket 升级请求没有应答：这是 WebSocket 服务器吗？路径对吗？";
    LoadAnyCert => "Accept any certificate", "接受任意证书";
    TipLoadAnyCert => "tls:// and wss:// targets: do not check the server's certificate (a test server's self-signed one); else it is checked against the system's roots, or it is exactly this tab's own certificate when the target came from a TLS server tab", "tls:// 与 wss:// 目标：不校验服务器证书（测试服务器的自签名证书）；否则按系统根证书校验，目标取自 TLS 服务器标签页时只信任该标签页自己的证书";
    LoadPinned => "only this tab's certificate ({})", "只信任本标签页的证书（{}）";
    BenchSummarySent => "sent      {} ({} /s, {} MB/s)", "发送      {}（{} 条/秒，{} MB/s）";
    BenchSummaryReceived => "received  {} ({} /s, {} MB/s)", "接收      {}（{} 条/秒，{} MB/s）";
    BenchSummaryFailed => "failed    {}{}", "失败      {}{}";
    BenchSummaryLatency => "latency µs  min {}  p50 {}  p90 {}  p95 {}  p99 {}  p99.9 {}  max {}", "延迟 µs  最小 {}  p50 {}  p90 {}  p95 {}  p99 {}  p99.9 {}  最大 {}";
    BenchSummaryTime => "in {} s, {} connections made", "用时 {} 秒，建立连接 {} 次";
    BenchSummaryTimeUdp => "in {} s, from {} sockets", "用时 {} 秒，使用 {} 个套接字";
    BenchSummaryInFlight => "in flight {} (sent, not answered yet when the run ended)", "在途      {}（结束时已发送、尚未应答）";
    BenchSummaryAddsUp => "          sent {} = {} answered + {} failed + {} in flight (+ {} connection failures)", "          发送 {} = 应答 {} + 失败 {} + 在途 {}（另有连接失败 {} 次）";
    BenchSummaryGaveUp => "gave up: no connection could be made for {} s (the request timeout); {} requests of the count not sent", "已放弃：{} 秒内（请求超时）无法建立连接；计数中 {} 个请求未发送";
    BenchSummaryAddsUpWritten => "          sent {} = {} written + {} failed + {} in flight (+ {} connection failures)", "          发送 {} = 写出 {} + 失败 {} + 在途 {}（另有连接失败 {} 次）";
    ActionRules => "Auto-reply rules…", "自动应答规则…";
    ActionScripts => "Scripts…", "测试脚本…";
    AutoReply => "Auto-reply rules", "自动应答规则";
    TipAutoReply => "Answer received messages by the rules, on the I/O thread (also while the window is hidden or busy)", "按规则自动应答收到的消息，在 I/O 线程上运行（窗口隐藏或忙碌时也照常应答）";
    RulesSummary => "{} rules · {} hits", "{} 条规则 · 命中 {} 次";
    EditRules => "Rules…", "规则…";
    TipEditRules => "Add and edit auto-reply rules, test them on pasted bytes or on the log", "添加和编辑自动应答规则，用粘贴的数据或日志测试";
    EditScripts => "Scripts ({})…", "脚本（{}）…";
    TipEditScripts => "Scripted conversations: send, expect, capture; run them here or with sockscope test", "测试脚本：发送、期望、捕获；可在此运行，或用 sockscope test 运行";
    RulesTitle => "Auto-reply rules", "自动应答规则";
    ScriptsTitle => "Scripts", "测试脚本";
    RulesState => "state: {}", "状态：{}";
    NoRules => "No rules yet: + Rule adds one", "还没有规则：点 + 规则 添加";
    NoScripts => "No scripts yet: + Script adds one", "还没有脚本：点 + 脚本 添加";
    AddRule => "+ Rule", "+ 规则";
    TipAddRule => "A new rule at the end of the list", "在列表末尾添加新规则";
    DuplicateRule => "Duplicate", "复制";
    RuleOn => "{} on", "启用 {}";
    RuleIntType => "The integer's type: u/i = unsigned/signed, 8…64 bits, be/le = byte order", "整数类型：u/i 为无符号/有符号，8…64 位，be/le 为字节序";
    DeleteRule => "Delete", "删除";
    TipDuplicateRule => "Duplicate the selected rule", "复制所选规则";
    TipMoveUp => "Move up (rules are tried in order)", "上移（规则按顺序尝试）";
    TipMoveDown => "Move down (rules are tried in order)", "下移（规则按顺序尝试）";
    TipDeleteRule => "Delete the selected rule", "删除所选规则";
    TipDeleteScript => "Delete this script", "删除此脚本";
    RuleName => "Name", "名称";
    RuleWhen => "When", "条件";
    RuleReply => "Then", "动作";
    RuleReplies => "Reply", "应答";
    RuleTo => "to", "发给";
    ReplyToSender => "the sender", "发送方";
    ReplyToAll => "all clients", "所有客户端";
    ReplyToPeer => "one peer", "指定对端";
    TipReplyToOnePeer => "A client by its address (ip:port), or the first connection from an IP", "按地址（ip:端口）指定客户端，或指定某 IP 的第一个连接";
    ReplyWire => "wire: {}", "实际发送：{}";
    ReplyDependsOnRequest => "The reply depends on the request: see Test with", "应答取决于请求内容：请用“测试输入”查看";
    RuleDelay => "after", "延迟";
    RuleSetState => "then state", "之后状态";
    RuleClose => "close the connection", "随后断开连接";
    RuleNext => "go on", "继续匹配";
    TipRuleNext => "Also try the rules after this one (off: the first rule that fires is the last)", "也尝试其后的规则（不勾选：第一条触发的规则即为最后一条）";
    RuleOffset => "at", "偏移";
    RuleMin => "min", "最小";
    RuleMax => "max", "最大";
    CondAlways => "every message", "每条消息";
    CondText => "text", "文本";
    CondBytes => "bytes (hex, ?? = any byte)", "字节（十六进制，?? 为任意字节）";
    CondRegex => "regular expression (text)", "正则表达式（文本）";
    CondBytesRegex => "regular expression (bytes)", "正则表达式（字节）";
    CondLength => "length", "长度";
    CondInt => "integer at an offset", "偏移处的整数";
    CondFrom => "from address", "来源地址";
    CondState => "in state", "处于状态";
    CondExpr => "expression", "表达式";
    CondAdvanced => "all / any / not, mask, checksum (RON)", "全部/任一/非、掩码、校验（RON）";
    TipCondRon => "All([Text(Prefix, \"AT\"), Not(Length(0, 2))]), Any([…]), Masked(\"01 80\", \"FF F0\"), Checksum((kind: Crc16Modbus, order: Little), true)", "All([Text(Prefix, \"AT\"), Not(Length(0, 2))])、Any([…])、Masked(\"01 80\", \"FF F0\")、Checksum((kind: Crc16Modbus, order: Little), true)";
    MatchExact => "is", "等于";
    MatchContains => "contains", "包含";
    MatchPrefix => "starts with", "开头为";
    MatchSuffix => "ends with", "结尾为";
    TipReplyTemplate => "Values from the request: {{rx}}, {{rx[0..2]}}, {{rx.len}}, {{rx.u16be@4}}, {{u16be(rx.len + 3)}}, {{cap.1}}; and {{counter}}, {{time}}, {{hex:0D 0A}}", "取自请求的值：{{rx}}、{{rx[0..2]}}、{{rx.len}}、{{rx.u16be@4}}、{{u16be(rx.len + 3)}}、{{cap.1}}；以及 {{counter}}、{{time}}、{{hex:0D 0A}}";
    RuleTest => "Test with", "测试输入";
    RuleTestNone => "No rule fires", "没有规则触发";
    RuleTestFires => "“{}” fires", "“{}”触发";
    RuleTestReply => "reply: {}", "应答：{}";
    RuleTestNoReply => "no reply", "不应答";
    TryOnLog => "Try on the log", "在日志上试运行";
    TipTryOnLog => "Run the rules over the received messages the log holds and count what would have fired (nothing is sent)", "用规则试运行日志中已收到的消息，统计会触发什么（不发送任何数据）";
    TryOnLogResult => "Of {} received messages: {}", "在 {} 条收到的消息中：{}";
    TryNone => "{} fired nothing", "{} 条未触发";
    AddScript => "+ Script", "+ 脚本";
    ScriptNumbered => "script {}", "脚本 {}";
    ScriptSteps => "Steps", "步骤";
    TipScriptSteps => "Send((payload: \"AT\", line_ending: CrLf)), Expect(when: Text(Prefix, \"OK\"), timeout_ms: 1000), Wait(100), Repeat(3, […]), Capture(\"v\", \"rx.u16be@9\")", "Send((payload: \"AT\", line_ending: CrLf))、Expect(when: Text(Prefix, \"OK\"), timeout_ms: 1000)、Wait(100)、Repeat(3, […])、Capture(\"v\", \"rx.u16be@9\")";
    RunScript => "Run", "运行";
    StopScript => "Stop", "停止";
    ScriptNotOpen => "Open the session first", "请先打开会话";
    ScriptRunning => "“{}” running…", "“{}”运行中…";
    ScriptPassedShort => "“{}” passed", "“{}”通过";
    ScriptFailedShort => "“{}” failed", "“{}”失败";
    ScriptNone => "there is no script {}", "没有第 {} 个脚本";
    CliNoScripts => "{} has no scripts to test: add them under session.automation.scripts", "{} 中没有可测试的脚本：请添加到 session.automation.scripts";
    CliScriptTimedOut => "Script “{}” did not finish within {}", "脚本“{}”未在 {} 内完成";
    CliBadRate => "'{}' is not a rate: write 2000 (requests/s) or 10MB/s", "“{}”不是速率：请写 2000（请求/秒）或 10MB/s";
    CliBadScheme => "'{}' is not a target: write HOST:PORT, tcp://, udp://, tls://HOST:PORT, or ws:// or wss://HOST:PORT/PATH", "“{}”不是目标：请写 主机:端口、tcp://、udp://、tls://主机:端口，或 ws://、wss://主机:端口/路径";
    CliRelayTcpDrop => "drop= is for UDP (--udp): a TCP stream cannot lose bytes; slow it with rate= or latency=, or end it with cut=", "drop= 只用于 UDP（--udp）：TCP 字节流不会丢字节；可用 rate= 或 latency= 放慢，或用 cut= 切断";
    CliRelayApplies => "{}: {}; {}: {}", "{}：{}；{}：{}";
    ErrTargetEmpty => "Give the target: HOST:PORT, e.g. 127.0.0.1:9000 (udp://HOST:PORT for UDP)", "请填写目标：主机:端口，例如 127.0.0.1:9000（UDP 写 udp://主机:端口）";
    ErrTargetNoPort => "'{}' has no port: write HOST:PORT, e.g. 127.0.0.1:9000", "“{}”缺少端口：请写 主机:端口，例如 127.0.0.1:9000";
    ErrTargetNoHost => "'{}' has no host: write HOST:PORT, e.g. 127.0.0.1:9000", "“{}”缺少主机：请写 主机:端口，例如 127.0.0.1:9000";
    ErrTargetUnknownHost => "No address found for '{}': check the name, or write an IP address", "找不到“{}”的地址：请检查名称，或直接写 IP 地址";
    ErrRequestEmpty => "The request is empty: write what each connection sends, e.g. ping", "请求为空：请填写每个连接发送的内容，例如 ping";
    CliBenchFileTooLarge => "{} is {} bytes: a request of at most {} bytes is sent", "{} 有 {} 字节：请求最多 {} 字节";
    CliBenchNoConnection => "No connection to {} could be made{}", "无法连接到 {}{}";
    CliBenchGaveUp => "Gave up on {}: no connection could be made for {} s{}; {} of {} requests not sent", "已放弃 {}：{} 秒内无法建立连接{}；{} 个请求未发送（共 {} 个）";
    CliBenchAllFailed => "Every request failed{}", "所有请求都失败了{}";
    CliBadConnections => "{} connections: give 1 to 100000", "{} 个连接：请给出 1 到 100000";
    CliP99Over => "p99 latency {} is above --max-p99 {}", "p99 延迟 {} 超过了 --max-p99 {}";
    CliErrorsOver => "{} requests failed, more than --max-errors {}", "{} 个请求失败，超过了 --max-errors {}";
    CliScriptHeader => "Script “{}”:", "脚本“{}”：";
    CliRepeatLine => "Repeat {} × ({}): {} passed", "重复 {} 次（{}）：{} 次通过";
    CliRepeatFailed => "Repeat {} × ({}): {} passed, failed in iteration {}", "重复 {} 次（{}）：{} 次通过，第 {} 次失败";
    CliIteration => "(iteration {})", "（第 {} 次）";
    CliPassed => "passed", "通过";
    CliFailed => "FAILED", "失败";
    CliCannotWrite => "Cannot write {}: {}", "无法写入 {}：{}";
    CliTestSummary => "{} of {} scripts passed", "{1} 个脚本中 {0} 个通过";
    ScriptTooLong => "more than {} steps once its repeats are counted", "展开重复后超过 {} 步";
    ScriptStepFailed => "Script “{}”, step {}: {}", "脚本“{}”第 {} 步：{}";
    ScriptNoMatch => "no matching message within {}", "{} 内没有符合条件的消息";
    ScriptNoMatchLast => "{}; the last was ≡ {} ({})", "{}；最后一条是 ≡ {}（{}）";
    ScriptFieldAbsent => "no {}", "无 {}";
    ScriptStopped => "stopped before this step finished", "此步骤完成前已停止";
    ScriptChangedStopped => "the script was changed: the run stopped at step {}", "脚本已被修改：运行在第 {} 步停止";
    StepSend => "send {}", "发送 {}";
    StepExpect => "expect {} (within {} ms)", "期望 {}（{} 毫秒内）";
    StepWait => "wait {} ms", "等待 {} 毫秒";
    StepCapture => "capture {} = {}", "捕获 {} = {}";
    EvScriptPassed => "Script “{}” passed: {} steps in {}", "脚本“{}”通过：{} 步，用时 {}";
    EvScriptFailed => "Script “{}” failed at step {}: {}", "脚本“{}”在第 {} 步失败：{}";
    RuleHexNumber => "{} is a number, not bytes: in a hex reply write its width with u8(…), u16be(…), u32le(…) …", "{} 是数字而不是字节：十六进制应答中请用 u8(…)、u16be(…)、u32le(…) … 指明宽度";
    RuleHexNumberAt => "“{}” at column {} is a number, not bytes: in a hex reply write its width with u8(…), u16be(…), u32le(…) … (rx[N] and rx.u16be@N keep the width they were read with)", "第 {1} 列的“{0}”是数字而不是字节：十六进制应答中请用 u8(…)、u16be(…)、u32le(…) … 指明宽度（rx[N] 和 rx.u16be@N 保持读取时的宽度）";
    RuleNoSuchGroup => "cap.{} reads a group the condition's regular expressions do not have", "cap.{} 读取的组在条件的正则表达式中不存在";
    RuleCapNoRegex => "cap.{0} reads a group of a regular expression, and the condition has none: add a regular expression with that group to When, or leave cap.{0} out", "cap.{0} 读取正则表达式的组，但条件中没有正则表达式：请在“条件”中加入含该组的正则表达式，或去掉 cap.{0}";
    ScriptNoGroup => "cap.{} reads a group of the last Expect's regular expression, and there is no such group (or no Expect before this step)", "cap.{} 读取上一个 Expect 的正则表达式的组，但没有该组（或此步骤之前没有 Expect）";
    ScriptPeerClosed => "the device closed the connection", "设备关闭了连接";
    ScriptPeerReset => "the device reset the connection", "设备重置了连接";
    ScriptClosedHere => "the connection was closed here", "连接已在本端关闭";
    EvRuleReplied => "Rule “{}” answered ({} B)", "规则“{}”已应答（{} 字节）";
    EvRuleReplyLater => "Rule “{}” answers in {2} ms ({1} B)", "规则“{}”将在 {2} 毫秒后应答（{1} 字节）";
    EvRuleReplyFailed => "Rule “{}” fired, but its reply could not be made: nothing was sent", "规则“{}”已触发，但应答无法生成：未发送任何内容";
    EvRuleFired => "Rule “{}” fired (no reply)", "规则“{}”已触发（不应答）";
    EvRuleCloses => ", then closes the connection", "，随后断开连接";
    CondMasked => "bytes under a mask", "掩码字节";
    CondChecksum => "checksum at the end", "末尾校验";
    CondAll => "all of", "全部满足";
    CondAny => "any of", "任一满足";
    CondNot => "not", "不满足";
    CondAddChild => "+ Condition", "+ 条件";
    TipCondAddChild => "Add a condition to this group", "向此组添加一个条件";
    CondRemove => "Remove", "移除";
    TipCondRemove => "Remove this condition from the group", "从组中移除此条件";
    MaskValue => "value", "值";
    MaskMask => "mask", "掩码";
    TipMasked => "(message & mask) == (value & mask) over the first bytes: value 01 80, mask FF F0 takes 01 80 … 01 8F", "对开头的字节判断 (消息 & 掩码) == (值 & 掩码)：值 01 80、掩码 FF F0 匹配 01 80 … 01 8F";
    ChecksumValid => "is valid", "正确";
    ChecksumInvalid => "is wrong", "错误";
    EditAsRon => "Edit as text (RON)", "以文本编辑（RON）";
    TipEditAsRon => "The whole condition as RON text, for pasting and for conditions the rows do not show", "以 RON 文本编辑整个条件，便于粘贴";
    RulesRunLastValid => "The running session keeps the last valid rules until this is fixed", "在修正之前，运行中的会话继续使用上一版有效的规则";
    RuleHeldPrevious => "{} — the running session answers by this rule's last valid version; the other rules run as edited", "{} —— 运行中的会话按此规则上一版有效的内容应答；其他规则按编辑后的内容运行";
    RuleHeldOff => "{} — this rule does not answer until it is fixed; the other rules run as edited", "{} —— 修正之前此规则不应答；其他规则按编辑后的内容运行";
    RulesMoreMistakes => " (and {} more with a mistake)", "（另有 {} 条有错误）";
    RuleDelayHeld => "{}: the delay {} — the running rule keeps its last one until it is fixed", "{}：延时{}——运行中的规则沿用上一个有效值，直到改正";
    TestHeldPrevious => "Tested as it runs, in its last valid version (the edit has a mistake): {}", "按运行中的内容测试，即上一版有效的内容（编辑后的内容有错误）：{}";
    RulesSkipped => "Not tried (it has a mistake): {}", "未测试（有错误）：{}";
    StateScopeLabel => "State per", "状态作用于";
    StateScopeConnection => "connection", "每个连接";
    StateScopeSession => "session", "整个会话";
    TipStateScope => "Connection: each client has its own state, from the start state (a login holds for that client only). Session: one state shared by every client.", "每个连接：每个客户端各有状态，从初始状态开始（登录只对该客户端有效）。整个会话：所有客户端共享一个状态。";
    StartState => "start state", "初始状态";
    LiveStates => "Now: {}", "当前：{}";
    LiveStatesStart => "every connection in the start state", "所有连接均处于初始状态";
    ResetCounts => "Reset counts", "计数清零";
    TipResetCounts => "Set every rule's hit count back to 0", "将每条规则的命中次数清零";
    ResetTablesState => "Reset tables and state", "重置表和状态";
    TipResetTablesState => "Tables back to their start values, every connection back to the start state (edits keep both)", "表恢复初始值，所有连接恢复初始状态（编辑规则不会重置它们）";
    AnswerPartial => "Answer a last line without its end", "应答末尾不完整的帧";
    TipAnswerPartial => "When a stream ends in the middle of a frame, let the rules see that partial frame (off: it is logged, not answered)", "数据流在帧中途结束时，让规则处理这个不完整的帧（不勾选：只记录，不应答）";
    Tables => "Tables", "数据表";
    TipTables => "Named byte tables (a register map): rules read them as table.NAME and write them with Writes. Start values are saved; live values are what the running session has now.", "命名的字节表（如寄存器表）：规则用 table.名称 读取，用“写表”写入。初始值随配置保存；当前值是运行中会话的数据。";
    AddTable => "+ Table", "+ 数据表";
    NewTableName => "new table name", "新表名";
    TableExists => "a table named '{}' exists", "已有名为“{}”的表";
    TableStartValue => "start", "初始";
    TableLiveValue => "now", "当前";
    TipTableLive => "The running session's bytes; typing here changes them now (the start value is unchanged)", "运行中会话的数据；在此输入会立即修改它（初始值不变）";
    DeleteTable => "Delete table", "删除表";
    RuleWrites => "Writes", "写表";
    TipRuleWrites => "When the rule fires, before its reply: table[at..] = value (at and value are expressions: 2 * rx.u16be@8, rx[10..12])", "规则触发时、应答之前执行：表[偏移..] = 值（偏移和值均为表达式：2 * rx.u16be@8、rx[10..12]）";
    AddWrite => "+ Write", "+ 写表";
    WriteAt => "at", "偏移";
    WriteValue => "value", "值";
    ReplyLengthPrefix => "Length prefix", "长度前缀";
    ReplyPrefixShown => "A {}-byte length prefix goes before the reply (the wire bytes include it)", "应答前加 {} 字节长度前缀（线上字节包含它）";
    TestInState => "in state", "状态";
    TestStateStart => "start (“{}”)", "初始（“{}”）";
    TestThenState => "then state “{}”", "之后状态“{}”";
    TestWrites => "writes {}[{}..] = {}", "写入 {}[{}..] = {}";
    TestCloses => "then closes the connection", "随后断开连接";
    TestAfter => "after {} ms", "{} 毫秒后";
    TestUsesLive => "Tested on the live tables and state", "基于当前的表和状态测试";
    DeletedRule => "Deleted “{}”", "已删除“{}”";
    Undo => "Undo", "撤销";
    StepKindSend => "Send", "发送";
    StepKindExpect => "Expect", "期望";
    StepKindWait => "Wait", "等待";
    StepKindRepeat => "Repeat", "重复";
    StepKindCapture => "Capture", "捕获";
    AddStep => "+ Step", "+ 步骤";
    TipAddStep => "Add a step at the end", "在末尾添加步骤";
    StepWithin => "within", "时限";
    StepTimes => "times", "次";
    CaptureAs => "keep as var.", "保存为 var.";
    TipCapture => "var.NAME = an expression over the last Expect's message: rx.u16be@9, cap.1 (a group of that Expect's regular expression), tx (the bytes the last Send sent)", "var.名称 = 对上一个 Expect 所匹配消息的表达式：rx.u16be@9、cap.1（该 Expect 正则表达式的组）、tx（上一个 Send 发送的字节）";
    StepScript => "Step", "单步";
    TipStepScript => "Run the script one step at a time: each press runs the next step", "逐步运行脚本：每按一次运行下一步";
    ScriptHeld => "“{}” paused before step {}: Step runs it", "“{}”在第 {} 步前暂停：按“单步”运行";
    StepsAsText => "Edit as text (RON)", "以文本编辑（RON）";
    StepsAsList => "Edit as a list", "以列表编辑";
    RemovedStep => "Removed step {} of “{}”", "已删除“{1}”的第 {0} 步";
    TipUndoDelete => "Bring it back where it was (Ctrl+Z)", "恢复到原来的位置（Ctrl+Z）";
    DeletedScript => "Deleted script “{}”", "已删除脚本“{}”";
    TipStepUp => "Move this step up", "上移此步骤";
    TipStepDown => "Move this step down", "下移此步骤";
    TipStepDelete => "Delete this step", "删除此步骤";
    ScriptReplyGot => "got {}", "收到 {}";
    CliNoScriptNamed => "{} has no script whose name contains “{}”; its scripts: {}", "{} 中没有名称包含“{}”的脚本；它的脚本有：{}";
    CliTestInterrupted => "stopped (Ctrl+C or SIGTERM) before the script finished", "脚本完成前已停止（Ctrl+C 或 SIGTERM）";
    CliDeviceReset => "the device reset the connection", "设备重置了连接";
    CliScriptCut => "Script “{}” failed: {}", "脚本“{}”失败：{}";
    CliFailedBecause => "FAILED: {}", "失败：{}";
    CliRuleFailedN => "{} × {} ({} not answered: the reply could not be made)", "{} × {}（{} 次未应答：应答无法生成）";
    CliRulesFailed => "Some rules could not make their reply: those messages went unanswered (see above)", "部分规则无法生成应答：这些消息未被应答（见上文）";
    CliRuleHits => "Rules fired: {}", "规则触发：{}";
    CliRuleHitsNone => "Rules fired: none", "规则触发：无";
    ErrChecksumRange => "checksum range (skip {} at the start, {} at the end) does not fit a {}-byte payload", "校验范围（开头跳过 {}，结尾跳过 {}）超出了 {} 字节的内容";
    ErrUnencodable => "'{}' at column {} cannot be written in {}", "第 {1} 列的“{0}”无法用 {2} 编码";
    ErrDelimiter => "Delimiter: {}", "分隔符：{}";
    ErrFraming => "Framing: {}", "分帧：{}";
    ProfileSyntax => "line {}, column {}: {}", "第 {} 行，第 {} 列：{}";
    ProfileNotAProfile => "not a SockScope profile: {}", "不是 SockScope 配置文件：{}";
    ProfileNoSession => "it has no `session` field", "缺少 `session` 字段";
    ProfileSessionNotStruct => "`session` (line {}) is not a struct: {}", "`session`（第 {} 行）不是结构：{}";
    ProfileUnknownField => "{} (line {}): unknown field, ignored", "{}（第 {} 行）：未知字段，已忽略";
    ProfileBadValue => "{} (line {}): {}; the default is used", "{}（第 {} 行）：{}；已使用默认值";
    ProfileNoVersion => "no `version` field: read as format {}", "缺少 `version` 字段：按格式 {} 读取";
    ProfileReadAsGbk => "the file is not UTF-8: read as GBK (a Chinese Windows' ANSI); saving writes UTF-8", "文件不是 UTF-8：已按 GBK（中文 Windows 的 ANSI 编码）读取；保存时写为 UTF-8";
    ProfileReadAsUtf16 => "the file is UTF-16 (Notepad's \"Unicode\"): read as such; saving writes UTF-8", "文件是 UTF-16（记事本的“Unicode”）：已按此读取；保存时写为 UTF-8";
    ProfileNotText => "it is neither UTF-8 nor GBK text (byte {} cannot be read)", "既不是 UTF-8 也不是 GBK 文本（第 {} 字节无法读取）";
    NotSet => "not set", "未设置";
    FileSendOptions => "File send:", "文件发送：";
    ConvertNotText => "Not all of it is text: shown with escapes (the same bytes)", "内容不全是文本：已改用转义显示（字节不变）";
    ConvertVariables => "Not converted: variables such as {{counter}} have no hex form", "未转换：{{counter}} 等变量没有十六进制形式";
    ConvertInvalid => "Not converted ({}): the characters are kept", "未转换（{}）：保留原字符";
    SwitchAnyway => "Switch anyway", "仍然切换";
    TipSwitchAnyway => "The mode stayed as it was. Switch anyway: the same characters, read in the new mode (for text typed in the wrong mode).", "模式保持不变。仍然切换：字符不变，按新模式解读（用于在错误模式下输入的内容）。";
    ShowLengthHeader => "Show length header", "显示长度头";
    TipShowLengthHeader => "With length-prefix framing, show each frame's length header in its row. Off: rows show the payload; the detail and hex views still have every byte.", "按长度前缀分帧时，在行中显示每帧的长度头。不勾选：行中只显示内容；详情和十六进制视图仍包含全部字节。";
    WrapLines => "Wrap lines", "自动换行";
    TipWrapLines => "Wrap long rows onto more lines instead of cutting them at the edge", "长行折到下一行显示，而不是在边缘截断";
    LatestSender => "Latest sender", "最近的发送方";
    TipLatestSender => "Reply to whoever sent the latest datagram (the target follows each new sender)", "回复最近发来数据报的对端（目标随新的发送方变化）";
    TipPinPeer => "Send only to this peer (pinned), whoever sends next", "只发送给此对端（固定），不随新的发送方变化";
    PinnedMark => "pinned", "已固定";
    AgoSecs => "{} s ago", "{} 秒前";
    AgoMins => "{} min ago", "{} 分钟前";
    AgoHours => "{} h ago", "{} 小时前";
    HintAllInterfaces => "all interfaces", "所有网卡";
    HintAnyPort => "any free port", "任意空闲端口";
    HintPortExample => "port, e.g. 8080", "端口，如 8080";
    StateFailedServer => "Not listening (see the log)", "未监听（详见日志）";
    StateFailedUdp => "Not open (see the log)", "未打开（详见日志）";
    ToLatestSender => "To: the latest sender ({})", "发往：最近的发送方（{}）";
    ToLatestSenderNone => "To: the latest sender (none yet)", "发往：最近的发送方（尚无）";
    ProfileNewer => "written by a newer SockScope (format {}); what this version (format {}) does not know is ignored", "由更新版本的 SockScope 写入（格式 {}）；本版本（格式 {}）不认识的内容已忽略";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protocol and format names that read the same in both languages.
    const SAME_IN_BOTH: &[S] = &[
        S::ModeUdp,
        S::Plain,
        S::TlsSni,
        S::TlsAlpn,
        S::WebSocket,
        S::WsHost,
        S::WsPing,
        S::TlsPin,
    ];

    #[test]
    fn every_string_has_both_languages() {
        for &key in S::ALL {
            assert!(!key.en().trim().is_empty(), "{key:?} has no English");
            assert!(!key.zh().trim().is_empty(), "{key:?} has no Chinese");
            if !SAME_IN_BOTH.contains(&key) {
                assert_ne!(key.en(), key.zh(), "{key:?} is not translated");
            }
        }
    }

    #[test]
    fn slots_match_between_languages() {
        for &key in S::ALL {
            assert_eq!(slot_count(key.en()), slot_count(key.zh()), "{key:?}");
        }
    }

    #[test]
    fn tf_fills_slots_in_order_and_follows_the_language() {
        set_lang(Lang::En);
        assert_eq!(tf(S::MatchNofM, &[&3, &12]), "3 of 12");
        set_lang(Lang::Zh);
        assert_eq!(tf(S::MatchNofM, &[&3, &12]), "第 3 处，共 12 处");
        // Numbered slots reorder; literal braces stay.
        assert_eq!(
            tf(S::ErrPortInUse, &[&9000, &"0.0.0.0"]),
            "0.0.0.0 上的端口 9000 已被占用"
        );
        assert!(tf(S::ErrVarUnknown, &[&"x", &3]).starts_with("未知变量“{{x}}”（第 3 列）"));
        set_lang(Lang::En);
        assert_eq!(
            tf(S::ErrVarUnclosed, &[&5]),
            "'{{' at column 5 has no closing '}}' (write \\{{ for literal braces)"
        );
        assert_eq!(
            tf(S::ErrVarUnknown, &[&"x", &3]),
            "unknown variable '{{x}}' at column 3: use counter, time, unixtime, random:LO:HI, hex:BYTES or f.FIELD"
        );
    }

    proptest::proptest! {
        #[test]
        fn tf_never_panics_on_any_key_and_arguments(n in 0usize..400, a in ".{0,8}", b in 0u64..) {
            if let Some(&key) = S::ALL.get(n % S::ALL.len()) {
                for lang in Lang::ALL {
                    set_lang(lang);
                    let _ = tf(key, &[&a, &b]);
                    let _ = tf(key, &[]);
                }
                set_lang(Lang::En);
            }
        }
    }

    #[test]
    fn chinese_locales_give_chinese() {
        assert_eq!(Lang::from_locale("zh-CN"), Lang::Zh);
        assert_eq!(Lang::from_locale("zh_CN.GB18030"), Lang::Zh);
        assert_eq!(Lang::from_locale("zh-Hans-SG"), Lang::Zh);
        // The strings are Simplified only: Traditional locales read English (issue 23).
        assert_eq!(Lang::from_locale("zh_TW.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale("zh-Hant-HK"), Lang::En);
        assert_eq!(Lang::from_locale("en-US"), Lang::En);
        assert_eq!(Lang::from_locale("C"), Lang::En);
    }
}
