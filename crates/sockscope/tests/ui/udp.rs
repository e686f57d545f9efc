//! Who a reply goes to: UDP peers by their latest datagram, the latest sender followed unless
//! one is pinned, a target editable while the socket is open; a stopped server that listens
//! again elsewhere while it keeps its clients.

use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use eframe::egui::accesskit::Role;
use eframe::egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use sockscope::capture::LinkState;
use sockscope::engine::Mode;
use sockscope::gui::App;
use sockscope::gui::state::{Form, Selection};

use super::{click_send, harness, run_until, type_into};

/// A UDP tab bound to an ephemeral loopback port, with no remote address set.
fn udp_tab(form: Form) -> (Harness<'static, App>, SocketAddr) {
    let mut harness = harness(Form {
        mode: Mode::Udp,
        local_ip: "127.0.0.1".into(),
        udp_port: "0".into(),
        remote_ip: String::new(),
        remote_port: String::new(),
        send_text: "hi".into(),
        ..form
    });
    harness.get_by_label("Open").click();
    run_until(&mut harness, "bound", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let LinkState::Listening(addr) = harness.state().tab().session.capture().link.clone() else {
        unreachable!()
    };
    (harness, addr)
}

fn peer() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    socket
}

/// `from` sends `bytes` and the tab has seen it.
fn datagram(harness: &mut Harness<'static, App>, from: &UdpSocket, to: SocketAddr) {
    let before = harness.state().tab().session.capture().counters.rx_messages;
    from.send_to(b"ping", to).unwrap();
    run_until(harness, "the datagram", |app| {
        app.tab().session.capture().counters.rx_messages > before
    });
    // Arrival times a few milliseconds apart order the peers.
    std::thread::sleep(Duration::from_millis(5));
}

fn receives(socket: &UdpSocket, want: &[u8]) {
    let mut buf = [0u8; 64];
    let (n, _) = socket.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], want);
}

/// The peers' ports, top to bottom as the list shows them.
fn listed_ports(harness: &Harness<'static, App>, peers: &[&UdpSocket]) -> Vec<u16> {
    let mut rows: Vec<(f32, u16)> = peers
        .iter()
        .map(|p| {
            let port = p.local_addr().unwrap().port();
            let row = harness
                .get_all_by_label_contains(&format!("127.0.0.1:{port}\n"))
                .next()
                .unwrap()
                .rect()
                .top();
            (row, port)
        })
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    rows.into_iter().map(|(_, port)| port).collect()
}

#[test]
fn replies_follow_the_latest_sender_until_one_is_pinned_and_clear_forgets_the_peers() {
    let (mut harness, addr) = udp_tab(Form::default());
    assert_eq!(harness.state().tab().selection, Selection::LatestPeer);
    let (a, b, c) = (peer(), peer(), peer());
    for p in [&a, &b, &c] {
        datagram(&mut harness, p, addr);
    }
    harness.run();
    let port = |p: &UdpSocket| p.local_addr().unwrap().port();
    assert_eq!(
        listed_ports(&harness, &[&a, &b, &c]),
        [port(&c), port(&b), port(&a)],
        "the latest first"
    );
    assert_eq!(
        harness.query_all_by_label_contains(" s ago").count(),
        3,
        "each with its age"
    );
    click_send(&mut harness);
    receives(&c, b"hi");
    datagram(&mut harness, &a, addr);
    harness.run();
    assert_eq!(listed_ports(&harness, &[&a, &b, &c])[0], port(&a));
    click_send(&mut harness);
    receives(&a, b"hi");
    // Pin b: it gets the replies whoever speaks next.
    harness
        .get_all_by_label_contains(&format!("127.0.0.1:{}\n", port(&b)))
        .next()
        .unwrap()
        .click();
    harness.run();
    datagram(&mut harness, &c, addr);
    click_send(&mut harness);
    receives(&b, b"hi");
    harness.get_by_label_contains("pinned");
    // The send's own event comes through the collector after b has the bytes: wait for it,
    // or it lands after Clear and lists b again (this raced under a loaded CI run).
    let b_addr = b.local_addr().unwrap();
    run_until(&mut harness, "the send to b in the log", |app| {
        app.tab()
            .session
            .capture()
            .peers
            .get(&b_addr)
            .is_some_and(|p| p.tx_bytes >= 2)
    });
    // Clear forgets the peers, and the pin with them.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::L);
    harness.run();
    assert!(harness.state().tab().session.capture().peers.is_empty());
    assert_ne!(
        harness.state().tab().selection,
        Selection::Peer(b.local_addr().unwrap())
    );
    harness.get_by_label("No datagram yet");
}

#[test]
fn a_new_open_starts_with_no_peers() {
    let (mut harness, addr) = udp_tab(Form::default());
    let a = peer();
    datagram(&mut harness, &a, addr);
    harness.get_by_label("Close").click();
    run_until(&mut harness, "closed", |app| !app.tab().is_open());
    harness.get_by_label("Open").click();
    run_until(&mut harness, "open again", |app| app.tab().is_open());
    assert!(harness.state().tab().session.capture().peers.is_empty());
}

#[test]
fn the_udp_remote_address_can_be_changed_while_the_socket_is_open() {
    let (first, second) = (peer(), peer());
    let (mut harness, _) = udp_tab(Form::default());
    harness.state_mut().tab_mut().form.remote_ip = "127.0.0.1".into();
    harness.state_mut().tab_mut().form.remote_port = first.local_addr().unwrap().port().to_string();
    harness.run();
    harness
        .get_by_label_contains("Remote address (127.0.0.1")
        .click();
    harness.run();
    click_send(&mut harness);
    receives(&first, b"hi");
    let field = harness.get_by_role_and_label(Role::TextInput, "Remote port");
    assert!(!field.accesskit_node().is_disabled(), "editable while open");
    harness.state_mut().tab_mut().form.remote_port.clear();
    let port = second.local_addr().unwrap().port().to_string();
    type_into(&mut harness, Role::TextInput, Some("Remote port"), &port);
    click_send(&mut harness);
    receives(&second, b"hi");
}

#[test]
fn a_stopped_server_that_kept_its_clients_listens_again_on_another_port() {
    let mut harness = harness(Form {
        mode: Mode::TcpServer,
        local_ip: "127.0.0.1".into(),
        server_port: "0".into(),
        ..Form::default()
    });
    harness.get_by_label("Listen").click();
    run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let LinkState::Listening(first) = harness.state().tab().session.capture().link.clone() else {
        unreachable!()
    };
    let _kept = TcpStream::connect(first).unwrap();
    run_until(&mut harness, "a client", |app| {
        app.tab().session.capture().clients.len() == 1
    });
    harness.get_by_label("Stop").click();
    run_until(&mut harness, "not listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::NotListening)
    });
    let field = harness.get_by_role_and_label(Role::TextInput, "Local port");
    assert!(!field.accesskit_node().is_disabled(), "the port can change");
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    harness.state_mut().tab_mut().form.server_port = free.port().to_string();
    harness.run();
    harness.get_by_label("Listen").click();
    run_until(&mut harness, "listening again", |app| {
        app.tab().session.capture().link == LinkState::Listening(free)
    });
    let _second = TcpStream::connect(free).unwrap();
    run_until(&mut harness, "the kept client and a new one", |app| {
        app.tab().session.capture().clients.len() == 2
    });
}

/// Sends `bytes` to `group` out of the loopback interface (multicast loop delivers it here).
fn send_to_group(group: SocketAddr, bytes: &[u8]) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
    socket
        .set_multicast_if_v4(&std::net::Ipv4Addr::LOCALHOST)
        .unwrap();
    socket.send_to(bytes, &group.into()).unwrap();
}

#[test]
fn a_group_joined_on_loopback_is_received_until_it_is_left() {
    let mut harness = super::harness(Form {
        mode: Mode::Udp,
        local_ip: "0.0.0.0".into(),
        udp_port: "0".into(),
        remote_ip: String::new(),
        remote_port: String::new(),
        ..Form::default()
    });
    harness.get_by_label("Open").click();
    run_until(&mut harness, "bound", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let LinkState::Listening(bound) = harness.state().tab().session.capture().link.clone() else {
        unreachable!()
    };
    harness.get_by_label("Multicast").click();
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("Group"), "239.77.1.2");
    harness
        .get_by_role_and_label(Role::ComboBox, "Interface")
        .click();
    harness.run();
    harness.get_by_label_contains("lo  127.0.0.1").click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Join").click();
    run_until(&mut harness, "joined", |app| {
        app.tab().session.capture().groups.len() == 1
    });
    assert!(harness.query_by_label("● 239.77.1.2%lo").is_some());
    let group: SocketAddr = format!("239.77.1.2:{}", bound.port()).parse().unwrap();
    send_to_group(group, b"to the group");
    run_until(&mut harness, "the group's datagram", |app| {
        app.tab().session.capture().counters.rx_messages == 1
    });
    // The profile remembers the group for the next Open.
    assert_eq!(harness.state().tab().form.udp.groups.len(), 1);
    harness.get_by_role_and_label(Role::Button, "Leave").click();
    run_until(&mut harness, "left", |app| {
        app.tab().session.capture().groups.is_empty()
    });
    send_to_group(group, b"after leaving");
    std::thread::sleep(Duration::from_millis(300));
    harness.run();
    assert_eq!(
        harness.state().tab().session.capture().counters.rx_messages,
        1
    );
    let texts = super::log_texts(&harness);
    assert!(
        texts
            .iter()
            .any(|t| t == "Joined multicast group 239.77.1.2%lo"),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t == "Left multicast group 239.77.1.2%lo"),
        "{texts:?}"
    );
}

#[test]
fn the_remote_ip_offers_the_limited_broadcast() {
    let (mut harness, _) = udp_tab(Form::default());
    // The second ▼ is the remote IP's (the first picks the local address).
    harness.get_all_by_label("▼").nth(1).unwrap().click();
    harness.run();
    harness.get_by_label_contains("255.255.255.255").click();
    harness.run();
    assert_eq!(harness.state().tab().form.remote_ip, "255.255.255.255");
}

#[test]
fn a_relay_tab_forwards_a_real_client_to_an_echo_server_and_cut_all_ends_it() {
    use std::io::{Read as _, Write as _};
    let echo = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = echo.local_addr().unwrap();
    std::thread::Builder::new()
        .name("echo".into())
        .spawn(move || {
            let (mut stream, _) = echo.accept().unwrap();
            let mut buf = [0u8; 1024];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 || stream.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        })
        .unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut harness = super::harness(Form {
        mode: Mode::Relay,
        local_ip: "127.0.0.1".into(),
        relay_port: port.to_string(),
        remote_ip: "127.0.0.1".into(),
        remote_port: upstream.port().to_string(),
        ..Form::default()
    });
    harness.run();
    assert!(harness.query_by_label("Upstream IP").is_some());
    assert!(harness.query_by_label("client → upstream").is_some());
    harness.get_by_label("Start").click();
    run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client.write_all("读寄存器 01 03".as_bytes()).unwrap();
    let mut back = vec![0u8; "读寄存器 01 03".len()];
    client.read_exact(&mut back).unwrap();
    assert_eq!(back, "读寄存器 01 03".as_bytes());
    run_until(&mut harness, "both sides listed", |app| {
        app.tab().session.capture().clients.len() == 2
    });
    harness.run();
    assert!(
        harness
            .query_by_label_contains("upstream of 127.0.0.1:")
            .is_some()
    );
    harness.get_by_label("Cut all pairs").click();
    harness.run();
    let mut buf = [0u8; 8];
    assert_eq!(client.read(&mut buf).unwrap_or(0), 0, "the client was cut");
    run_until(&mut harness, "the cut said", |app| {
        app.tab()
            .session
            .capture()
            .log
            .iter()
            .any(|r| r.text().starts_with("Cut "))
    });
}

#[test]
fn with_no_remote_address_send_waits_for_a_sender_and_its_note_goes_when_one_comes() {
    let (mut harness, addr) = udp_tab(Form::default());
    // Nobody to send to: Send is off, and Ctrl+Enter says why under the send box.
    assert!(!harness.state().tab().can_send());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    harness.run();
    assert!(
        harness.state().tab().send_note.is_some(),
        "a sentence says why nothing went"
    );
    let peer = peer();
    datagram(&mut harness, &peer, addr);
    harness.run();
    assert!(harness.state().tab().can_send(), "a sender to answer now");
    assert!(
        harness.state().tab().send_note.is_none(),
        "the note about having nobody to send to is gone"
    );
    click_send(&mut harness);
    receives(&peer, b"hi");
}

#[test]
fn a_broadcast_picked_for_the_remote_ip_is_where_datagrams_go() {
    let (mut harness, addr) = udp_tab(Form::default());
    let peer = peer();
    datagram(&mut harness, &peer, addr);
    harness.get_by_label_contains("Latest sender").click();
    harness.run();
    assert_eq!(harness.state().tab().selection, Selection::LatestPeer);
    // The remote IP's picker (the lower ▼; the other is the local IP's).
    harness
        .get_all_by_label("▼")
        .max_by(|a, b| a.rect().top().total_cmp(&b.rect().top()))
        .unwrap()
        .click();
    harness.run();
    harness.get_by_label_contains("255.255.255.255").click();
    harness.run();
    assert_eq!(harness.state().tab().form.remote_ip, "255.255.255.255");
    assert_eq!(
        harness.state().tab().selection,
        Selection::Default,
        "the picked address is now the destination"
    );
}

#[test]
fn a_server_with_many_clients_lays_out_only_the_rows_in_view() {
    let (mut harness, clients) = super::server_with_clients(Form::default(), 300);
    harness.run();
    assert!(harness.query_by_label("Clients (300)").is_some());
    // A client's row says its counters (↓ received ↑ sent).
    let rows = harness.query_all_by_label_contains("↓").count();
    assert!(
        (1..60).contains(&rows),
        "{rows} rows laid out of 300: only those in view are"
    );
    drop(clients);
}

#[test]
fn with_no_remote_address_the_send_group_names_whom_a_send_answers() {
    let (mut harness, addr) = udp_tab(Form::default());
    // "Remote address" chosen in the peer list, with the field left empty.
    harness.state_mut().tab_mut().selection = Selection::Default;
    harness.run();
    harness.get_by_label("To: the latest sender (none yet)");
    assert!(harness.query_by_label("To: :").is_none());
    let a = peer();
    datagram(&mut harness, &a, addr);
    let from = a.local_addr().unwrap();
    harness.get_by_label(&format!("To: the latest sender ({from})"));
    click_send(&mut harness);
    receives(&a, b"hi");
}

#[test]
fn clients_that_join_move_nothing_under_their_list() {
    let (mut harness, mut clients) = super::server_with_clients(Form::default(), 0);
    let LinkState::Listening(addr) = harness.state().tab().session.capture().link.clone() else {
        unreachable!()
    };
    harness.run();
    let receive_top = |h: &Harness<'static, App>| h.get_by_label("Receive").rect().top();
    let before = receive_top(&harness);
    for n in 1..=6 {
        clients.push(TcpStream::connect(addr).unwrap());
        run_until(&mut harness, "a client more", |app| {
            app.tab().session.capture().clients.len() == n
        });
        harness.run();
        let now = receive_top(&harness);
        assert!(
            (now - before).abs() < 0.5,
            "with {n} clients the Receive group moved from {before} to {now}"
        );
    }
    // The last ones are a scroll away, not cut off.
    assert!(harness.query_by_label("Clients (6)").is_some());
}

#[test]
fn a_busy_clients_row_keeps_to_two_lines_in_chinese() {
    use sockscope::engine::{ConnId, Data, DataKind, Direction, Event};
    let mut harness = harness(Form {
        mode: Mode::TcpServer,
        ..Form::default()
    });
    harness.state_mut().set_lang(sockscope::gui::i18n::Lang::Zh);
    let peer: SocketAddr = "[2001:db8:ffff:ffff:ffff:ffff:ffff:fffe]:65535"
        .parse()
        .unwrap();
    {
        let mut capture = harness.state().tab().session.capture();
        capture.begin(Mode::TcpServer);
        capture.apply(Event::Connected {
            conn: ConnId(7),
            peer,
            local: "[::]:9000".parse().unwrap(),
        });
        for _ in 0..3 {
            capture.apply(Event::Data(Data {
                conn: Some(ConnId(7)),
                peer,
                dir: Direction::Rx,
                at: std::time::SystemTime::now(),
                bytes: vec![b'x'; 1_500_000],
                kind: DataKind::Message,
            }));
        }
    }
    harness.run();
    let row = harness.get_by_label_contains("↓");
    let line = 2.0 * 14.0 + 2.0 * 4.0 + 4.0;
    assert!(
        row.rect().height() <= line,
        "the row is {} px tall: more than two lines",
        row.rect().height()
    );
}

#[test]
fn an_empty_remote_ip_is_not_a_mistake_in_udp_even_with_a_port_typed_and_after_a_send() {
    // Empty means "answer the latest sender": no red "Required" under the address fields,
    // also once Send was pressed with nobody to send to yet.
    let (mut harness, _addr) = udp_tab(Form::default());
    harness.state_mut().tab_mut().form.remote_port = "5000".into();
    harness.run();
    assert!(harness.query_by_label_contains("Required").is_none());
    assert!(
        harness
            .state()
            .tab()
            .form
            .field_errors()
            .remote_ip
            .is_none()
    );
    click_send(&mut harness);
    harness.run();
    assert!(harness.query_by_label_contains("Required").is_none());
    assert!(harness.state().tab().errors.remote_ip.is_none());
}
