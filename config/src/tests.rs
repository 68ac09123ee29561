use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Config, Error> {
    Config::parse(text, "probe.toml", Path::new("/etc/echoprobe"))
}

/// The whole message for a bad file.
fn message(text: &str) -> String {
    match parse(text) {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => e.to_string(),
    }
}

fn assert_msg(text: &str, want: &str) {
    let got = message(text);
    assert!(got.contains(want), "want {want:?} in {got:?}");
}

const ONE: &str = "[[target]]\nname = \"pacs\"\naddress = \"10.0.0.5\"\n";

#[test]
fn empty_file_is_all_defaults() {
    let c = parse("").unwrap();
    assert!(c.targets.is_empty());
    assert_eq!(c.listen, Listen::default());
    assert_eq!(c.listen.agent.to_string(), "127.0.0.1:5555");
    assert_eq!(c.serve, Serve::default());
    assert_eq!(c.defaults, Settings::default());
    assert_eq!(c.probe_allow, None);
    assert_eq!(
        c.summary(),
        "0 targets, 0 modules, http 127.0.0.1:9104, agent 127.0.0.1:5555"
    );
}

#[test]
fn target_over_defaults_over_built_in() {
    let c = parse(
        "[defaults]\ncalling_ae = \"PROBE\"\nrise = 1\ninterval_ms = 2000\n\
         [[target]]\nname = \"a\"\naddress = \"pacs.example\"\nport = 11112\nrise = 4\nagent_port = 6000\n\
         [[target]]\nname = \"b\"\naddress = \"::1\"\n",
    )
    .unwrap();
    let a = &c.targets[0];
    assert_eq!(a.name, "a");
    assert_eq!(a.address, "pacs.example");
    assert_eq!(a.agent_port, Some(6000));
    assert_eq!(a.settings.port, 11112);
    assert_eq!(a.settings.rise, 4);
    assert_eq!(a.settings.calling_ae, "PROBE");
    assert_eq!(a.settings.interval_ms, 2000);
    assert_eq!(a.settings.called_ae, "ANY-SCP");
    assert_eq!(a.settings.fall, 3);
    let b = c.target("b").unwrap();
    assert_eq!(b.settings.port, 104);
    assert_eq!(b.settings.rise, 1);
    assert_eq!(b.agent_port, None);
    assert!(c.target("c").is_none());
    assert_eq!(c.summary().split(',').next(), Some("2 targets"));
}

#[test]
fn bad_toml_names_the_file() {
    let m = message("[[target]\n");
    assert!(m.starts_with("probe.toml: not valid TOML"), "{m}");
}

#[test]
fn unknown_sections_and_keys_are_errors() {
    assert_msg(
        "[targets]\n",
        "probe.toml: `targets`: unknown section (known: defaults, target",
    );
    assert_msg(
        &format!("{ONE}colour = 1\n"),
        "`target[0].colour`: unknown key (known: name, address, agent_port, port",
    );
    assert_msg("[defaults]\nname = \"x\"\n", "`defaults.name`: unknown key");
    assert_msg(
        "[defaults]\nagent_port = 5\n",
        "`defaults.agent_port`: unknown key",
    );
    assert_msg(
        "[listen]\nweb = \"1.2.3.4:5\"\n",
        "`listen.web`: unknown key (known: http, agent)",
    );
    assert_msg("[serve]\nthreads = 1\n", "`serve.threads`: unknown key");
    assert_msg("[probe]\ndeny = []\n", "`probe.deny`: unknown key");
    assert_msg("[web]\nport = 1\n", "`web.port`: unknown key");
    assert_msg(
        "[module.tls]\naddress = \"x\"\n",
        "`module.tls.address`: unknown key",
    );
    assert_msg("[network]\nmask = 1\n", "`network.mask`: unknown key");
    assert_msg("listen = 1\n", "`listen`: must be a table");
    assert_msg("target = 1\n", "`target`: must be an array of tables");
}

#[test]
fn ae_titles_follow_the_core() {
    assert_msg(
        &format!("{ONE}called_ae = \"STORESCPSTORESCPX\"\n"),
        "probe.toml: `target[0].called_ae`: `STORESCPSTORESCPX` is not a valid AE title: must be 1 to 16 characters",
    );
    assert_msg(
        &format!("{ONE}calling_ae = \"\"\n"),
        "`target[0].calling_ae`: `` is not a valid AE title: must be 1 to 16 characters",
    );
    assert_msg(
        &format!("{ONE}calling_ae = \" X\"\n"),
        "not a valid AE title: no leading or trailing spaces",
    );
    assert_msg(
        &format!("{ONE}calling_ae = \"A\\\\B\"\n"),
        "not a valid AE title: only printable ASCII without backslash",
    );
    assert_msg(
        "[defaults]\ncalled_ae = 5\n",
        "`defaults.called_ae`: `5` must be a string",
    );
    assert_eq!(check_ae_title("STORESCP"), Ok(()));
    assert_eq!(
        check_ae_title("     "),
        Err("no leading or trailing spaces")
    );
}

#[test]
fn names_are_checked_and_unique() {
    assert_msg("[[target]]\naddress = \"h\"\n", "`target[0].name`: missing");
    assert_msg(
        "[[target]]\nname = \"a b\"\naddress = \"h\"\n",
        "`target[0].name`: `a b`: 1 to 32 of A-Z a-z 0-9 - _ .",
    );
    assert_msg(
        &format!("{ONE}[[target]]\nname = \"pacs\"\naddress = \"h\"\n"),
        "`target[1].name`: `pacs` is used twice",
    );
    assert_msg(
        "[module.\"a/b\"]\n",
        "`module.a/b`: `a/b` is not a valid module name",
    );
    assert_eq!(
        check_name(&"x".repeat(33)),
        Err("1 to 32 of A-Z a-z 0-9 - _ .")
    );
}

#[test]
fn addresses_are_host_names_or_ips() {
    assert_msg("[[target]]\nname = \"a\"\n", "`target[0].address`: missing");
    assert_msg(
        "[[target]]\nname = \"a\"\naddress = \"pacs one\"\n",
        "`target[0].address`: `pacs one`: not a host name or IP address",
    );
    assert_msg(
        "[[target]]\nname = \"a\"\naddress = \"-pacs\"\n",
        "not a host name or IP address",
    );
    for good in ["pacs", "pacs-1.example.org", "10.1.2.3", "fe80::1"] {
        parse(&format!("[[target]]\nname = \"a\"\naddress = \"{good}\"\n")).unwrap();
    }
}

#[test]
fn numbers_are_in_range() {
    assert_msg(
        &format!("{ONE}port = 0\n"),
        "`target[0].port`: 0 is out of range 1..=65535",
    );
    assert_msg(
        &format!("{ONE}interval_ms = 99\n"),
        "`target[0].interval_ms`: 99 is out of range 100..=86400000",
    );
    assert_msg(
        &format!("{ONE}connect_timeout_ms = 0\n"),
        "`target[0].connect_timeout_ms`: 0 is out of range 1..=600000",
    );
    assert_msg(
        &format!("{ONE}acse_timeout_ms = 600001\n"),
        "acse_timeout_ms`: 600001",
    );
    assert_msg(
        &format!("{ONE}dimse_timeout_ms = -1\n"),
        "dimse_timeout_ms`: -1",
    );
    assert_msg(
        &format!("{ONE}deadline_ms = 0\n"),
        "deadline_ms`: 0 is out of range",
    );
    assert_msg(
        &format!("{ONE}rise = 256\n"),
        "`target[0].rise`: 256 is out of range 1..=255",
    );
    assert_msg(
        &format!("{ONE}fall = 0\n"),
        "`target[0].fall`: 0 is out of range",
    );
    assert_msg(
        &format!("{ONE}port = \"104\"\n"),
        "`target[0].port`: `\"104\"` must be an integer",
    );
    assert_msg(
        "[serve]\nmax_concurrent = 0\n",
        "`serve.max_concurrent`: 0 is out of range",
    );
    assert_msg(
        "[serve]\nhistory = 10001\n",
        "`serve.history`: 10001 is out of range",
    );
    let c = parse("[serve]\nmax_concurrent = 8\nhistory = 5\n").unwrap();
    assert_eq!(
        c.serve,
        Serve {
            max_concurrent: 8,
            history: 5
        }
    );
}

#[test]
fn listen_addresses_and_distinct_ports() {
    let c = parse("[listen]\nhttp = \"0.0.0.0:8080\"\nagent = \"[::1]:5556\"\n").unwrap();
    assert_eq!(c.listen.http.to_string(), "0.0.0.0:8080");
    assert_eq!(c.listen.agent.to_string(), "[::1]:5556");
    assert_msg(
        "[listen]\nhttp = \"localhost\"\n",
        "`listen.http`: `localhost` is not ADDR:PORT",
    );
    assert_msg(
        "[listen]\nhttp = \"127.0.0.1:5555\"\n",
        "`listen.agent`: port 5555 is already used by `listen.http`",
    );
    assert_msg(
        &format!("{ONE}agent_port = 5555\n"),
        "`target[0].agent_port`: port 5555 is already used by `listen.agent`",
    );
    assert_msg(
        &format!("{ONE}agent_port = 7000\n[[target]]\nname = \"b\"\naddress = \"h\"\nagent_port = 7000\n"),
        "`target[1].agent_port`: port 7000 is already used by `target[0].agent_port`",
    );
    assert_msg(
        "[http]\nport = 9104\n",
        "`http.port`: port 9104 is already used by `listen.http`",
    );
    // Port 0 (any free port) never collides.
    parse("[listen]\nhttp = \"127.0.0.1:0\"\nagent = \"127.0.0.1:0\"\n").unwrap();
}

#[test]
fn tls_settings() {
    let c = parse(&format!(
        "{ONE}key = \"k.pem\"\ncertificate = \"/abs/c.pem\"\nca_files = [\"ca.pem\"]\nprofile = \"bcp195-ex\"\n\
         verify_host_name = true\n"
    ))
    .unwrap();
    let tls = c.targets[0].settings.tls.clone().unwrap();
    assert_eq!(
        tls.identity,
        Some(("/etc/echoprobe/k.pem".into(), "/abs/c.pem".into()))
    );
    assert_eq!(tls.ca_files, vec![PathBuf::from("/etc/echoprobe/ca.pem")]);
    assert_eq!(tls.profile, Profile::Bcp195Ex);
    assert!(tls.verify_host_name);
    // Anonymous TLS, and TLS switched off for one target under TLS defaults.
    let c = parse(&format!(
        "[defaults]\ntls = true\n{ONE}[[target]]\nname = \"plain\"\naddress = \"h\"\ntls = false\n"
    ))
    .unwrap();
    assert_eq!(c.targets[0].settings.tls, Some(Tls::default()));
    assert_eq!(c.targets[1].settings.tls, None);
    assert_msg(
        &format!("{ONE}key = \"k.pem\"\n"),
        "`target[0].certificate`: missing (key needs a certificate)",
    );
    assert_msg(
        &format!("{ONE}certificate = \"c.pem\"\n"),
        "`target[0].key`: missing (certificate needs a key)",
    );
    assert_msg(
        &format!("{ONE}profile = \"sslv3\"\n"),
        "`target[0].profile`: `sslv3` is not a TLS profile (known: bcp195-nd, bcp195, bcp195-ex)",
    );
    assert_msg(
        &format!("{ONE}ca_files = \"ca.pem\"\n"),
        "`target[0].ca_files`: must be a list",
    );
    assert_msg(
        &format!("{ONE}ca_files = [1]\n"),
        "`target[0].ca_files[0]`: `1` must be a file name",
    );
    assert_msg(&format!("{ONE}key = \"\"\n"), "`target[0].key`: is empty");
    assert_msg(
        &format!("{ONE}tls = 1\n"),
        "`target[0].tls`: `1` must be true or false",
    );
}

#[test]
fn modules_lie_over_the_defaults() {
    let c = parse("[defaults]\ncalling_ae = \"PROBE\"\n[module.tls]\ntls = true\nport = 2762\n")
        .unwrap();
    let m = &c.modules["tls"];
    assert_eq!(m.port, 2762);
    assert_eq!(m.calling_ae, "PROBE");
    assert!(m.tls.is_some());
    assert_eq!(c.defaults.calling_ae, "PROBE");
    assert_msg("[module]\ntls = 1\n", "`module.tls`: must be a table");
}

#[test]
fn probe_allow_ranges() {
    let c = parse("[probe]\nallow = [\"10.1.0.0/16\", \"192.0.2.7\", \"fd00::/8\"]\n").unwrap();
    let allow = c.probe_allow.unwrap();
    assert_eq!(allow.len(), 3);
    assert!(allow[0].contains("10.1.200.3".parse().unwrap()));
    assert!(!allow[0].contains("10.2.0.1".parse().unwrap()));
    assert!(allow[0].contains("::ffff:10.1.0.1".parse().unwrap()));
    assert!(allow[1].contains("192.0.2.7".parse().unwrap()));
    assert!(!allow[1].contains("192.0.2.8".parse().unwrap()));
    assert!(allow[2].contains("fd12::1".parse().unwrap()));
    assert!(!allow[2].contains("10.1.0.1".parse().unwrap()));
    assert_eq!(allow[0].to_string(), "10.1.0.0/16");
    let all: Cidr = "0.0.0.0/0".parse().unwrap();
    assert!(all.contains("8.8.8.8".parse().unwrap()));
    assert_msg(
        "[probe]\nallow = [\"10.1.0.1/16\"]\n",
        "`probe.allow[0]`: `10.1.0.1/16`: host bits are set",
    );
    assert_msg(
        "[probe]\nallow = [\"10.1.0.0/33\"]\n",
        "the prefix length is out of range",
    );
    assert_msg(
        "[probe]\nallow = [\"pacs\"]\n",
        "`pacs`: not an IP address or CIDR range",
    );
    assert_msg(
        "[probe]\nallow = \"10.0.0.0/8\"\n",
        "`probe.allow`: must be a list of CIDR ranges",
    );
    assert_msg(
        "[probe]\nallow = [8]\n",
        "`probe.allow[0]`: `8` must be a string",
    );
}

#[test]
fn web_settings() {
    let hash = format!("$2b$05${}", "a".repeat(53));
    let c = parse(&format!(
        "[web]\ntls_key = \"k.pem\"\ntls_certificate = \"c.pem\"\nbasic_auth = {{ prom = \"{hash}\" }}\n"
    ))
    .unwrap();
    assert_eq!(
        c.web.tls,
        Some(("/etc/echoprobe/k.pem".into(), "/etc/echoprobe/c.pem".into()))
    );
    assert_eq!(c.web.basic_auth["prom"], hash);
    assert_msg(
        "[web]\nbasic_auth = { prom = \"secret\" }\n",
        "`web.basic_auth.prom`: is not a bcrypt hash",
    );
    assert_msg(
        "[web]\ntls_key = \"k.pem\"\n",
        "`web.tls_certificate`: missing",
    );
    assert_msg(
        "[web]\ntls_certificate = \"c.pem\"\n",
        "`web.tls_key`: missing",
    );
    assert_msg(
        "[web]\nbasic_auth = 1\n",
        "`web.basic_auth`: must be a table",
    );
}

#[test]
fn firmware_sections() {
    let c = parse(
        "[network]\naddress = \"192.0.2.15/24\"\ngateway = \"192.0.2.2\"\n[http]\nport = 8080\n\
         [scp]\nport = 104\nae_title = \"ECHOPROBE\"\n",
    )
    .unwrap();
    assert_eq!(
        c.firmware.network,
        Some(Network::Static(StaticIpv4 {
            address: "192.0.2.15".parse().unwrap(),
            prefix: 24,
            gateway: "192.0.2.2".parse().unwrap()
        }))
    );
    assert_eq!(c.firmware.http_port, Some(8080));
    assert_eq!(c.firmware.scp.as_ref().unwrap().ae_title, "ECHOPROBE");
    let net = |a: &str, g: &str| format!("[network]\naddress = \"{a}\"\ngateway = \"{g}\"\n");
    assert_msg(
        &net("192.0.2.15", "192.0.2.2"),
        "`network.address`: `192.0.2.15`: write address/prefix",
    );
    assert_msg(
        &net("192.0.2.x/24", "192.0.2.2"),
        "`network.address`: `192.0.2.x` is not an IPv4 address",
    );
    assert_msg(
        &net("192.0.2.15/31", "192.0.2.2"),
        "prefix `31` must be 1..=30",
    );
    assert_msg(
        &net("192.0.2.15/24", "192.0.3.2"),
        "`network.gateway`: 192.0.3.2 is outside 192.0.2.15/24",
    );
    assert_msg(
        &net("192.0.2.15/24", "192.0.2.15"),
        "`network.gateway`: is the probe's own address",
    );
    assert_msg(
        &net("192.0.2.0/24", "192.0.2.2"),
        "is the network or broadcast address of /24",
    );
    assert_msg(
        &net("192.0.2.15/24", "gw"),
        "`network.gateway`: `gw` is not an IPv4 address",
    );
    assert_msg("[scp]\nport = 104\n", "`scp.ae_title`: missing");
    assert_msg(
        "[scp]\nport = 104\nae_title = \"\"\n",
        "`scp.ae_title`: `` is not a valid AE title",
    );
    assert_msg(
        "[http]\nport = 8080\n[scp]\nport = 8080\nae_title = \"A\"\n",
        "`scp.port`: port 8080 is already used by `http.port`",
    );
}

/// `address = "dhcp"`: no gateway (the DHCP server names the router); the other firmware sections as before.
#[test]
fn firmware_network_dhcp() {
    let c = parse("[network]\naddress = \"dhcp\"\n").unwrap();
    assert_eq!(c.firmware.network, Some(Network::Dhcp));
    assert_msg(
        "[network]\naddress = \"dhcp\"\ngateway = \"192.0.2.2\"\n",
        "`network.gateway`: not with address = \"dhcp\" (the DHCP server names the router)",
    );
    assert_msg(
        "[network]\naddress = \"DHCP\"\n",
        "`network.address`: `DHCP`: write address/prefix, e.g. 192.0.2.15/24, or \"dhcp\"",
    );
    // A static address still needs its gateway.
    assert_msg(
        "[network]\naddress = \"192.0.2.15/24\"\n",
        "`network.gateway`: missing",
    );
    let c = Config::parse_firmware(
        "[network]\naddress = \"dhcp\"\n[http]\nport = 8080\n[scp]\nport = 104\nae_title = \"ECHOPROBE\"\n\
         [[target]]\nname = \"pacs\"\naddress = \"192.0.2.100\"\nport = 11112\ncalled_ae = \"STORESCP\"\n\
         calling_ae = \"ECHOPROBE\"\nagent_port = 5555\ninterval_ms = 1000\nconnect_timeout_ms = 2000\n\
         acse_timeout_ms = 2000\ndimse_timeout_ms = 2000\nrise = 2\nfall = 3\n",
        "probe.toml",
    )
    .unwrap();
    assert_eq!(c.firmware.network, Some(Network::Dhcp));
}

#[test]
fn load_reads_the_file_and_names_it() {
    let e = Config::load(Path::new("/nonexistent/probe.toml")).unwrap_err();
    assert_eq!(e.file, "/nonexistent/probe.toml");
    assert!(
        e.to_string()
            .starts_with("/nonexistent/probe.toml: cannot read:"),
        "{e}"
    );
    let dir = std::env::temp_dir().join(format!("echoprobe-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("probe.toml");
    std::fs::write(
        &path,
        format!("{ONE}key = \"k.pem\"\ncertificate = \"c.pem\"\n"),
    )
    .unwrap();
    let c = Config::load(&path).unwrap();
    let (key, _) = c.targets[0].settings.tls.clone().unwrap().identity.unwrap();
    assert_eq!(key, dir.join("k.pem"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The firmware's reader: its sections and target keys only, every one required, no daemon listen ports.
#[test]
fn firmware_reader() {
    const FW: &str =
        "[network]\naddress = \"192.0.2.15/24\"\ngateway = \"192.0.2.2\"\n[http]\nport = 8080\n\
         [scp]\nport = 104\nae_title = \"ECHOPROBE\"\n";
    const TARGET: &str = "[[target]]\nname = \"pacs\"\naddress = \"192.0.2.100\"\nport = 11112\n\
         called_ae = \"STORESCP\"\ncalling_ae = \"ECHOPROBE\"\nagent_port = 5555\ninterval_ms = 1000\n\
         connect_timeout_ms = 2000\nacse_timeout_ms = 2000\ndimse_timeout_ms = 2000\nrise = 2\nfall = 3\n";
    let fw = |text: &str| Config::parse_firmware(text, "probe.toml");
    let fw_msg = |text: &str, want: &str| {
        let got = fw(text).unwrap_err().to_string();
        assert!(got.contains(want), "want {want:?} in {got:?}");
    };
    // agent_port 5555 is the daemon's default agent listener, not the firmware's.
    let c = fw(&format!("{FW}{TARGET}")).unwrap();
    assert_eq!(c.targets[0].agent_port, Some(5555));
    assert_eq!(c.targets[0].settings.fall, 3);
    assert_eq!(c.firmware.http_port, Some(8080));
    assert!(parse(&format!("{FW}{TARGET}")).is_err());

    fw_msg(TARGET, "probe.toml: `network`: missing table");
    fw_msg(
        &format!("[listen]\n{FW}{TARGET}"),
        "`listen`: unknown section (known: network, http, scp, serve, target)",
    );
    // [serve] is optional: max_concurrent is the firmware's number of check slots (default 2), history is not its.
    assert_eq!(c.serve.max_concurrent, 2);
    let c = fw(&format!("{FW}[serve]\nmax_concurrent = 3\n{TARGET}")).unwrap();
    assert_eq!(c.serve.max_concurrent, 3);
    fw_msg(
        &format!("{FW}[serve]\nhistory = 5\n{TARGET}"),
        "`serve.history`: unknown key (known: max_concurrent)",
    );
    fw_msg(FW, "`target`: missing");
    fw_msg(
        &format!("{FW}{}", TARGET.replace("rise = 2\n", "")),
        "`target[0].rise`: missing",
    );
    fw_msg(
        &format!("{FW}{TARGET}deadline_ms = 10\n"),
        "`target[0].deadline_ms`: unknown key",
    );

    // The check and the find keys are optional: an echo unless `check = "find"`, which the daemon's rules check.
    assert_eq!(c.targets[0].settings.check, Check::Echo);
    let c = fw(&format!(
        "{FW}{TARGET}check = \"find\"\nquery_model = \"study\"\nquery = [\"StudyInstanceUID=1.2.3\"]\n\
         min_matches = 1\nmax_matches = 4\nrequire = \"PatientID=P1\"\n"
    ))
    .unwrap();
    let Check::Find(find) = &c.targets[0].settings.check else {
        panic!("not a find: {:?}", c.targets[0].settings.check)
    };
    assert_eq!(find.model, QueryModel::Study);
    assert_eq!(find.query, ["StudyInstanceUID=1.2.3"]);
    assert_eq!((find.min_matches, find.max_matches), (Some(1), Some(4)));
    assert_eq!(find.require.as_deref(), Some("PatientID=P1"));
    fw_msg(
        &format!("{FW}{TARGET}check = \"find\"\nquery_model = \"study\"\n"),
        "`target[0].query`: missing",
    );
    fw_msg(
        &format!("{FW}{TARGET}min_matches = 2\n"),
        "`target[0].min_matches`: only a find check has it",
    );
}

const FIND: &str = "check = \"find\"\nquery_model = \"study\"\nquery = [\"StudyInstanceUID=1.2.3\", \"PatientID\"]\n";

#[test]
fn echo_is_the_default_check() {
    let c = parse(ONE).unwrap();
    assert_eq!(c.targets[0].settings.check, Check::Echo);
    let c = parse(&format!("{ONE}check = \"echo\"\n")).unwrap();
    assert_eq!(c.targets[0].settings.check, Check::Echo);
    assert_msg(
        &format!("{ONE}check = \"store\"\n"),
        "`target[0].check`: `store` is not a check (known: echo, find)",
    );
    assert_msg(
        &format!("{ONE}check = true\n"),
        "`target[0].check`: `true` must be a string",
    );
}

#[test]
fn a_find_target() {
    let c = parse(&format!(
        "{ONE}{FIND}min_matches = 0\nmax_matches = 5\nrequire = \"PatientID=P1\"\n"
    ))
    .unwrap();
    assert_eq!(
        c.targets[0].settings.check,
        Check::Find(Find {
            model: QueryModel::Study,
            query: vec!["StudyInstanceUID=1.2.3".into(), "PatientID".into()],
            min_matches: Some(0),
            max_matches: Some(5),
            require: Some("PatientID=P1".into()),
        })
    );
    // The bounds left to the command line's defaults.
    let c = parse(&format!("{ONE}{FIND}")).unwrap();
    let Check::Find(f) = &c.targets[0].settings.check else {
        panic!("{c:?}")
    };
    assert_eq!(
        (f.min_matches, f.max_matches, &f.require),
        (None, None, &None)
    );
    for (name, model) in [
        ("study", QueryModel::Study),
        ("patient", QueryModel::Patient),
        ("worklist", QueryModel::Worklist),
    ] {
        let c = parse(&format!(
            "{ONE}check = \"find\"\nquery_model = \"{name}\"\nquery = [\"PatientID\"]\n"
        ))
        .unwrap();
        assert!(matches!(&c.targets[0].settings.check, Check::Find(f) if f.model == model));
    }
}

#[test]
fn a_find_needs_its_model_and_query() {
    assert_msg(
        &format!("{ONE}check = \"find\"\nquery = [\"PatientID\"]\n"),
        "`target[0].query_model`: missing (a find check names its model: study, patient, worklist)",
    );
    assert_msg(
        &format!("{ONE}check = \"find\"\nquery_model = \"study\"\n"),
        "`target[0].query`: missing (a find check needs at least one query key",
    );
    assert_msg(
        &format!("{ONE}check = \"find\"\nquery_model = \"S\"\nquery = [\"PatientID\"]\n"),
        "`target[0].query_model`: `S` is not a query model (known: study, patient, worklist)",
    );
    assert_msg(
        &format!("{ONE}check = \"find\"\nquery_model = \"study\"\nquery = []\n"),
        "`target[0].query`: is empty: must be a list of query keys as -k takes them",
    );
    assert_msg(
        &format!("{ONE}check = \"find\"\nquery_model = \"study\"\nquery = \"PatientID\"\n"),
        "`target[0].query`: must be a list of query keys as -k takes them, e.g. [\"StudyInstanceUID=1.2.3\", \"PatientID\"]",
    );
    assert_msg(
        &format!("{ONE}check = \"find\"\nquery_model = \"study\"\nquery = [\"PatientID\", 7]\n"),
        "`target[0].query[1]`: `7` must be a query key such as \"PatientID=P1\"",
    );
    assert_msg(
        &format!("{ONE}check = \"find\"\nquery_model = \"study\"\nquery = [\"\"]\n"),
        "`target[0].query[0]`: `\"\"` must be a query key",
    );
}

#[test]
fn find_bounds_are_in_the_command_line_ranges() {
    assert_msg(
        &format!("{ONE}{FIND}min_matches = -1\n"),
        "`target[0].min_matches`: -1 is out of range 0..=4294967295",
    );
    assert_msg(
        &format!("{ONE}{FIND}max_matches = 0\n"),
        "`target[0].max_matches`: 0 is out of range 1..=4294967295",
    );
    assert_msg(
        &format!("{ONE}{FIND}max_matches = \"5\"\n"),
        "`target[0].max_matches`: `\"5\"` must be an integer",
    );
    assert_msg(
        &format!("{ONE}{FIND}require = 5\n"),
        "`target[0].require`: `5` must be a string",
    );
}

#[test]
fn find_keys_are_errors_where_the_check_is_an_echo() {
    for key in [
        "query_model = \"study\"",
        "query = [\"PatientID\"]",
        "min_matches = 1",
        "max_matches = 1",
        "require = \"PatientID=P\"",
    ] {
        let name = key.split(' ').next().unwrap();
        assert_msg(
            &format!("{ONE}{key}\n"),
            &format!("`target[0].{name}`: only a find check has it: the check here is an echo (set check = \"find\")"),
        );
        assert_msg(
            &format!("{ONE}check = \"echo\"\n{key}\n"),
            &format!("`target[0].{name}`"),
        );
        assert_msg(
            &format!("[defaults]\n{key}\n"),
            &format!("`defaults.{name}`: only a find check has it"),
        );
        assert_msg(
            &format!("[module.m]\n{key}\n"),
            &format!("`module.m.{name}`: only a find check has it"),
        );
    }
}

#[test]
fn find_settings_lie_over_the_defaults() {
    // Find defaults: a target inherits them, another opts out with check = "echo" (the inherited keys ignored).
    let c = parse(&format!(
        "[defaults]\n{FIND}max_matches = 3\n{ONE}min_matches = 2\n\
         [[target]]\nname = \"plain\"\naddress = \"h\"\ncheck = \"echo\"\n\
         [module.worklist]\nquery_model = \"worklist\"\nquery = [\"AccessionNumber=A1\"]\n"
    ))
    .unwrap();
    let Check::Find(f) = &c.targets[0].settings.check else {
        panic!("{c:?}")
    };
    assert_eq!(f.model, QueryModel::Study);
    assert_eq!((f.min_matches, f.max_matches), (Some(2), Some(3)));
    assert_eq!(c.targets[1].settings.check, Check::Echo);
    assert!(matches!(&c.defaults.check, Check::Find(_)));
    let Check::Find(m) = &c.modules["worklist"].check else {
        panic!("{c:?}")
    };
    assert_eq!(m.model, QueryModel::Worklist);
    assert_eq!(m.query, ["AccessionNumber=A1"]);
    assert_eq!(m.max_matches, Some(3));
    // A target may make a find of its own over echo defaults.
    let c = parse(&format!("[defaults]\nrise = 1\n{ONE}{FIND}")).unwrap();
    assert!(matches!(&c.targets[0].settings.check, Check::Find(_)));
    assert_eq!(c.defaults.check, Check::Echo);
}

/// The firmware's build reads `check` (its `find` feature runs the find): the key is known there, and a target that
/// has it still needs every required key.
#[test]
fn firmware_targets_may_have_a_check_key() {
    let got = Config::parse_firmware(
        "[network]\naddress = \"192.0.2.15/24\"\ngateway = \"192.0.2.2\"\n[http]\nport = 8080\n\
         [scp]\nport = 104\nae_title = \"ECHOPROBE\"\n[[target]]\nname = \"pacs\"\ncheck = \"find\"\n",
        "probe.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(!got.contains("unknown key"), "{got}");
    assert!(got.contains("`target[0].address`: missing"), "{got}");
}
