use super::help::*;
use super::tokens::*;
use super::values::*;
use super::*;

fn v(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn echo(args: &[&str]) -> EchoOptions {
    match parse("echoprobe", v(args)) {
        Ok(Invocation::Echo(o, _)) => o,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn usage_error(args: &[&str]) -> String {
    match parse("echoprobe", v(args)) {
        Err(f @ (Failure::Usage(_) | Failure::Unsupported(_))) => {
            assert_eq!(f.code(), 1);
            f.to_string()
        }
        other => panic!("{args:?} should be a usage error: {other:?}"),
    }
}

#[test]
fn translate_short_forms() {
    let t = translate(&v(&[
        "-aet", "LB", "-aec", "PACS", "-to", "5", "-ta", "6", "-td", "7", "-q", "h", "104",
    ]))
    .unwrap();
    assert_eq!(
        t,
        v(&[
            "--aetitle=LB",
            "--call=PACS",
            "--timeout=5",
            "--acse-timeout=6",
            "--dimse-timeout=7",
            "--quiet",
            "h",
            "104"
        ])
    );
}

#[test]
fn translate_keeps_dash_values_and_double_dash() {
    let t = translate(&v(&["-aet", "-X-", "--call", "+Y", "--", "-weird", "1"])).unwrap();
    assert_eq!(t, v(&["--aetitle=-X-", "--call=+Y", "--", "-weird", "1"]));
    let t = translate(&v(&["--aetitle=A", "--repeat", "3"])).unwrap();
    assert_eq!(t, v(&["--aetitle=A", "--repeat=3"]));
}

#[test]
fn translate_errors() {
    assert!(matches!(translate(&v(&["-xx"])), Err(Failure::Usage(m)) if m == "unknown option -xx"));
    assert!(
        matches!(translate(&v(&["+foo"])), Err(Failure::Usage(m)) if m == "unknown option +foo")
    );
    assert!(
        matches!(translate(&v(&["-aet"])), Err(Failure::Usage(m)) if m.contains("missing value"))
    );
    assert!(
        matches!(translate(&v(&["--abort=1"])), Err(Failure::Usage(m)) if m.contains("takes no value"))
    );
}

#[test]
fn defaults_are_documented_values() {
    let o = echo(&["localhost", "104"]);
    assert_eq!(o.peer, "localhost");
    assert_eq!(o.port, 104);
    assert_eq!(o.calling, "ECHOSCU");
    assert_eq!(o.called, "ANY-SCP");
    assert_eq!((o.propose_ts, o.propose_pc), (1, 1));
    assert_eq!(o.connect_timeout, Duration::from_secs(10));
    assert_eq!(o.socket_timeout, Some(Duration::from_secs(60)));
    assert_eq!(o.acse_timeout, Duration::from_secs(30));
    assert_eq!(o.dimse_timeout, Duration::from_secs(10));
    assert_eq!(o.max_pdu, 16384);
    assert_eq!(o.repeat, 1);
    assert!(!o.abort);
    assert_eq!(o.deadline, Some(Duration::from_secs(30)));
    assert_eq!(o.verbosity, Verbosity::Normal);
    assert!(!o.json && !o.show_arguments);
}

/// Every option of echoscu 3.6.0 and 3.6.7 is either accepted or refused with exit code 1 and a clear message.
#[test]
fn every_echoscu_option() {
    let accepted: &[&[&str]] = &[
        &["--arguments"],
        &["-q"],
        &["--quiet"],
        &["-v"],
        &["--verbose"],
        &["-d"],
        &["--debug"],
        &["-ll", "trace"],
        &["--log-level", "info"],
        &["-aet", "ME"],
        &["--aetitle", "ME"],
        &["-aec", "YOU"],
        &["--call", "YOU"],
        &["-pts", "38"],
        &["--propose-ts", "3"],
        &["-ppc", "128"],
        &["--propose-pc", "2"],
        &["-to", "5"],
        &["--timeout", "5"],
        &["-ts", "0"],
        &["--socket-timeout", "60"],
        &["-ta", "30"],
        &["--acse-timeout", "30"],
        &["-td", "1"],
        &["--dimse-timeout", "1"],
        &["-pdu", "4096"],
        &["--max-pdu", "131072"],
        &["--repeat", "3"],
        &["--abort"],
        &["-tls"],
        &["--disable-tls"],
    ];
    for opts in accepted {
        let mut args = opts.to_vec();
        args.extend(["h", "104"]);
        echo(&args);
    }
    assert!(matches!(
        parse("echoprobe", v(&["-h"])),
        Ok(Invocation::Help(_))
    ));
    assert!(matches!(
        parse("echoprobe", v(&["--help"])),
        Ok(Invocation::Help(_))
    ));
    assert!(matches!(
        parse("echoprobe", v(&["--version"])),
        Ok(Invocation::Version(_))
    ));

    // TLS options: accepted with DCMTK's syntax (with +tls or +tla, which they need).
    let base = ["+tla", "+cf", "ca.pem"];
    let tls_accepted: &[&[&str]] = &[
        &["+tls", "key.pem", "cert.pem"],
        &["--enable-tls", "key.pem", "cert.pem"],
        &["--enable-tls=key.pem", "cert.pem"],
        &["+tla"],
        &["--anonymous-tls"],
        &["-pem"],
        &["--pem-keys"],
        &["-der"],
        &["--der-keys"],
        &["+cf", "ca2.pem"],
        &["--add-cert-file", "ca2.pem"],
        &["+cd", "/etc/ssl"],
        &["--add-cert-dir", "/etc/ssl"],
        &["+py"],
        &["--profile-bcp195-nd"],
        &["+px"],
        &["--profile-bcp195"],
        &["+pz"],
        &["--profile-bcp195-ex"],
        &["+cs", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
        &["--cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
        &["+cs", "TLS_AES_128_GCM_SHA256"],
        &["+dp", "dh.pem"],
        &["--dhparam", "dh.pem"],
        &["+rs", "seed"],
        &["--seed", "seed", "+ws"],
        &["+rs", "seed", "--write-seed"],
        &["+rs", "seed", "+wf", "f"],
        &["+rs", "seed", "--write-seed-file", "f"],
        &["-rc"],
        &["--require-peer-cert"],
        &["-vc"],
        &["--verify-peer-cert"],
        &["-ic"],
        &["--ignore-peer-cert"],
        &["--verify-host-name"],
        &["+crl", "crl.pem"],
        &["--add-crl-file", "crl.pem"],
        &["+crv"],
        &["--enable-crl-vfy"],
        &["+cra"],
        &["--enable-crl-all"],
    ];
    for opts in tls_accepted {
        let mut args = base.to_vec();
        args.extend_from_slice(opts);
        args.extend(["h", "104"]);
        echo(&args);
    }
    for pw in [
        &["+ps"][..],
        &["--std-passwd"],
        &["+pw", "secret"],
        &["--use-passwd", "s"],
        &["-pw"],
        &["--null-passwd"],
    ] {
        let mut args = vec!["+tls", "k", "c", "+cf", "ca.pem"];
        args.extend_from_slice(pw);
        args.extend(["h", "104"]);
        assert!(echo(&args).tls.is_some());
    }
    assert!(matches!(
        parse("echoprobe", v(&["+cc"])),
        Ok(Invocation::Help(t)) if t.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    ));
    assert!(matches!(
        parse("echoprobe", v(&["--list-ciphers"])),
        Ok(Invocation::Help(_))
    ));
    for args in [
        &["+tla", "+cf", "ca.pem", "+vc", "x.pem"][..],
        &[
            "+tla",
            "+cf",
            "ca.pem",
            "--verify-cert",
            "x.pem",
            "h",
            "104",
        ],
        &["+rc", "ca.pem"],
        &["--is-root-cert", "ca.pem", "h", "104"],
    ] {
        assert!(
            matches!(parse("echoprobe", v(args)), Ok(Invocation::Offline(_))),
            "{args:?}"
        );
    }
    assert!(usage_error(&["+vc", "x.pem"]).contains("needs trusted certificates"));

    // Recognized and refused, with a message saying why.
    let tls_refused: &[(&[&str], &str)] = &[
        (&["+pa"], "retired"),
        (&["--profile-aes"], "retired"),
        (&["+pn"], "retired"),
        (&["--profile-null"], "retired"),
        (&["+cs", "TLS_RSA_WITH_AES_128_CBC_SHA"], "not supported"),
        (&["+cs", "NOPE"], "not supported"),
    ];
    // TLS options need TLS on; a client needs something to trust unless -ic; the SCP needs +tls.
    for (args, why) in [
        (&["+cf", "ca.pem", "h", "1"][..], "only with +tls"),
        (
            &["+tla", "+cf", "ca.pem", "-tls", "h", "1"],
            "only with +tls",
        ),
        (&["-ic", "h", "1"], "only with +tls"),
        (&["+tla", "h", "1"], "+cf FILE or +cd DIR"),
        (
            &["+tla", "+pw", "x", "-ic", "h", "1"],
            "+pw/-pw only with +tls",
        ),
        (
            &["+tla", "-ic", "--verify-host-name", "h", "1"],
            "--verify-host-name only",
        ),
        (&["h", "1", "+tls", "k"], "missing value"),
        (
            &[
                "+tla",
                "-ic",
                "+pz",
                "+cs",
                "TLS_AES_128_GCM_SHA256",
                "h",
                "1",
            ],
            "not with +pz",
        ),
        (&["+tla", "-ic", "+ws", "h", "1"], "only with +rs"),
        (
            &["+tla", "-ic", "+crv", "h", "1"],
            "which -ic does not verify",
        ),
        (&["+crl", "x", "h", "1"], "only with +tls"),
        (&["scp", "+tla", "-ic", "1"], "a TLS server needs +tls"),
        (&["scp", "+tls", "k", "c", "1"], "+cf FILE or +cd DIR"),
    ] {
        let msg = usage_error(args);
        assert!(msg.contains(why), "{args:?}: {msg}");
    }
    let Ok(Invocation::Scp(o)) = parse("echoprobe", v(&["scp", "+tls", "k", "c", "-ic", "1"]))
    else {
        panic!()
    };
    assert_eq!(
        o.tls.map(|t| t.peer_cert),
        Some(crate::tls::PeerCert::Ignore)
    );

    for (opts, why) in tls_refused {
        let mut args = base.to_vec();
        args.extend_from_slice(opts);
        args.extend(["h", "104"]);
        let msg = usage_error(&args);
        assert!(msg.contains(why), "{args:?}: {msg}");
    }
    for lc in ["-lc", "--log-config"] {
        let msg = usage_error(&[lc, "/nonexistent/log.cfg", "h", "104"]);
        assert!(msg.contains("cannot read --log-config file"), "{msg}");
        for other in [&["-v"][..], &["-q"], &["-d"], &["-ll", "info"]] {
            let mut args = other.to_vec();
            args.extend([lc, "/nonexistent/log.cfg", "h", "104"]);
            let msg = usage_error(&args);
            assert!(msg.contains("--log-config not allowed with"), "{msg}");
        }
    }
    assert_eq!(echo(&["h", "1"]).family, Family::Any);
    for (flags, family) in [
        (&["-i4"][..], Family::V4),
        (&["--ipv4"], Family::V4),
        (&["-i6"], Family::V6),
        (&["--ipv6"], Family::V6),
        (&["-i0"], Family::Any),
        (&["--ip-auto"], Family::Any),
        (&["-i4", "-i6"], Family::V6),
        (&["-i6", "-i0"], Family::Any),
    ] {
        let mut args = flags.to_vec();
        args.extend(["h", "1"]);
        assert_eq!(echo(&args).family, family, "{flags:?}");
    }
}

#[test]
fn values_are_applied() {
    let o = echo(&[
        "-aet",
        "LOADBALANCER",
        "-aec",
        "LB-SCP",
        "-pts",
        "3",
        "-ppc",
        "5",
        "-to",
        "2",
        "-ta",
        "0.5",
        "-td",
        "7",
        "-pdu",
        "32768",
        "--repeat",
        "4",
        "--abort",
        "--deadline",
        "9",
        "--json",
        "-ts",
        "0",
        "[::1]",
        "11112",
    ]);
    assert_eq!(o.calling, "LOADBALANCER");
    assert_eq!(o.called, "LB-SCP");
    assert_eq!((o.propose_ts, o.propose_pc), (3, 5));
    assert_eq!(o.connect_timeout, Duration::from_secs(2));
    assert_eq!(o.acse_timeout, Duration::from_millis(500));
    assert_eq!(o.dimse_timeout, Duration::from_secs(7));
    assert_eq!(o.socket_timeout, None);
    assert_eq!(o.max_pdu, 32768);
    assert_eq!(o.repeat, 4);
    assert!(o.abort && o.json);
    assert_eq!(o.deadline, Some(Duration::from_secs(9)));
    assert_eq!(o.peer, "::1");
    assert_eq!(o.port, 11112);
    assert_eq!(echo(&["--deadline", "0", "h", "1"]).deadline, None);
}

#[test]
fn last_option_wins() {
    assert_eq!(echo(&["-aet", "A", "-aet", "B", "h", "1"]).calling, "B");
    assert_eq!(echo(&["-q", "-v", "h", "1"]).verbosity, Verbosity::Verbose);
    assert_eq!(echo(&["-v", "-q", "h", "1"]).verbosity, Verbosity::Quiet);
    assert_eq!(
        echo(&["-d", "-ll", "warn", "h", "1"]).verbosity,
        Verbosity::Normal
    );
    assert_eq!(
        echo(&["-ll", "fatal", "-d", "h", "1"]).verbosity,
        Verbosity::Debug
    );
}

#[test]
fn validation_like_dcmtk() {
    for bad in [
        &["-pts", "0"][..],
        &["-pts", "39"],
        &["-ppc", "0"],
        &["-ppc", "129"],
        &["-pdu", "4095"],
        &["-pdu", "131073"],
        &["-pdu", "0"],
        &["-to", "0"],
        &["-ta", "0"],
        &["-td", "0"],
        &["-to", "-1"],
        &["-to", "x"],
        &["-ta", "1.2345"],
        &["--repeat", "0"],
        &["-ll", "loud"],
        &["-aet", ""],
        &["-aet", "    "],
        &["-aet", "12345678901234567\\"],
        &["-aet", "A\\B"],
        &["-aec", "A\tB"],
        &["-aec", "Ä"],
        &["--deadline", "x"],
    ] {
        let mut args = bad.to_vec();
        args.extend(["h", "104"]);
        usage_error(&args);
    }
    usage_error(&[]);
    usage_error(&["h"]);
    usage_error(&["h", "0"]);
    usage_error(&["h", "65536"]);
    usage_error(&["h", "port"]);
    usage_error(&["h", "1", "extra"]);
    assert_eq!(echo(&["-aet", " PADDED ", "h", "1"]).calling, "PADDED");
    // Over 16 characters: cut to the first 16 as DCMTK's echoscu does (a warning says so); our own
    // --allow-calling stays strict.
    assert_eq!(
        echo(&["-aet", "12345678901234567", "h", "1"]).calling,
        "1234567890123456"
    );
    assert_eq!(
        echo(&["-aec", " 12345678901234567", "h", "1"]).called,
        "123456789012345"
    );
    usage_error(&["scp", "--allow-calling", "12345678901234567", "0"]);
    assert_eq!(
        echo(&["-aet", "1234567890123456", "h", "1"]).calling,
        "1234567890123456"
    );
}

#[test]
fn seconds() {
    assert_eq!(parse_seconds("5"), Ok(Duration::from_secs(5)));
    assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
    assert_eq!(parse_seconds(".5"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_seconds("2."), Ok(Duration::from_secs(2)));
    assert!(parse_seconds(".").is_err());
    assert!(parse_seconds("").is_err());
    assert!(parse_seconds("1e3").is_err());
    assert!(parse_seconds("86401").is_err());
}

#[test]
fn subcommands() {
    let Ok(Invocation::Scp(o)) = parse(
        "echoprobe",
        v(&[
            "scp",
            "-aet",
            "LB-SCP",
            "--require-called-aet",
            "--allow-calling",
            "A",
            "--allow-calling",
            "B",
            "--status",
            "0x0110",
            "--bind",
            "127.0.0.1",
            "--max-associations",
            "4",
            "--idle-timeout",
            "5",
            "-ta",
            "3",
            "-pdu",
            "8192",
            "--exit-after",
            "2",
            "-v",
            "0",
        ]),
    ) else {
        panic!()
    };
    assert_eq!(o.port, 0);
    assert_eq!(o.ae_title, "LB-SCP");
    assert!(o.require_called_aet);
    assert_eq!(o.allow_calling, v(&["A", "B"]));
    assert_eq!(o.status, 0x0110);
    assert_eq!(o.bind, IpAddr::from([127, 0, 0, 1]));
    assert_eq!(o.max_associations, 4);
    assert_eq!(o.idle_timeout, Duration::from_secs(5));
    assert_eq!(o.acse_timeout, Duration::from_secs(3));
    assert_eq!(o.max_pdu, 8192);
    assert_eq!(o.exit_after, Some(2));
    assert_eq!(o.verbosity, Verbosity::Verbose);

    let Ok(Invocation::Scp(o)) = parse("echoprobe", v(&["scp", "11112"])) else {
        panic!()
    };
    assert_eq!(o.bind, IpAddr::from([0, 0, 0, 0]));
    assert_eq!(o.ae_title, "ECHOPROBE");
    assert_eq!(o.max_associations, 32);
    assert_eq!(o.idle_timeout, Duration::from_secs(30));
    assert!(o.allow_calling.is_empty() && !o.require_called_aet && o.exit_after.is_none());
    assert!(matches!(
        parse("echoprobe", v(&["scp", "-h"])),
        Ok(Invocation::Help(_))
    ));
    assert!(parse("echoprobe", v(&["scp"])).is_err());
    assert!(parse("echoprobe", v(&["scp", "--status", "0x10000", "1"])).is_err());
    assert!(parse("echoprobe", v(&["scp", "--bind", "localhost", "1"])).is_err());
    assert!(parse("echoprobe", v(&["scp", "--repeat", "1", "1"])).is_err());

    let Ok(Invocation::Demo(d)) = parse("echoprobe", v(&["demo"])) else {
        panic!()
    };
    assert_eq!(d.verbosity, Verbosity::Verbose);
    assert_eq!((d.repeat, d.status, d.called.as_str()), (1, 0, "ECHOPROBE"));
    let Ok(Invocation::Demo(d)) = parse(
        "echoprobe",
        v(&["demo", "-q", "--status", "272", "-aec", "X"]),
    ) else {
        panic!()
    };
    assert_eq!(
        (d.verbosity, d.status, d.called.as_str()),
        (Verbosity::Quiet, 0x0110, "X")
    );

    // As echoscu there are no subcommands: "scp" is a host name.
    let Ok(Invocation::Echo(o, _)) = parse("echoscu", v(&["scp", "104"])) else {
        panic!()
    };
    assert_eq!(o.peer, "scp");
}

#[test]
fn command_files() {
    let dir = std::env::temp_dir().join(format!("echoprobe-args-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("opts");
    std::fs::write(&file, "-aet 'LOAD BALANCER'\n -aec \"LB-SCP\"\n").unwrap();
    let o = echo(&[&format!("@{}", file.display()), "h", "1"]);
    assert_eq!(o.calling, "LOAD BALANCER");
    assert_eq!(o.called, "LB-SCP");
    std::fs::write(&file, "-aet 'open").unwrap();
    usage_error(&[&format!("@{}", file.display()), "h", "1"]);
    usage_error(&["@/nonexistent/echoprobe", "h", "1"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_texts() {
    let h = help_echo("echoprobe");
    for needle in [
        "-aet  --aetitle",
        "-pts  --propose-ts",
        "(1..38)",
        "--deadline",
        "72  overall deadline",
    ] {
        assert!(h.contains(needle), "{needle}");
    }
    assert!(help_echo("echoscu").starts_with("echoscu: "));
    assert!(!help_echo("echoscu").contains("echoscu scp"));
    assert!(help_scp("echoprobe").contains("--require-called-aet"));
    assert!(help_demo("echoprobe").contains("68"));
}

/// One option table: the DCMTK token table, the clap definitions and the help texts must agree. Every supported
/// token maps to a clap argument of some mode, every clap argument has its token, and every option is in a `-h`.
#[test]
fn token_table_clap_and_help_agree() {
    let command = clap_command();
    let mut clap_longs: Vec<String> = Vec::new();
    for cmd in core::iter::once(&command).chain(command.get_subcommands()) {
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                clap_longs.push(format!("--{long}"));
            }
        }
    }
    let helps = [
        help_echo("echoprobe"),
        help_scp("echoprobe"),
        help_demo("echoprobe"),
        super::find::help_find("echoprobe"),
    ]
    .join("\n");
    for &(short, long, _, kind) in OPTIONS {
        match kind {
            Kind::Supported if long == "--help" || long == "--version" => {}
            Kind::Supported => {
                assert!(
                    clap_longs.iter().any(|l| l == long),
                    "{long} is in the token table but no mode's clap definition has it"
                );
                assert!(helps.contains(long), "{long} is in no -h text");
            }
            Kind::Refused(_) => assert!(helps.contains(short), "{short} is in no -h text"),
        }
    }
    for long in &clap_longs {
        assert!(
            OPTIONS.iter().any(|(_, l, _, _)| l == long),
            "{long} is a clap argument without a row in the token table"
        );
    }
    // The TLS options are one clap struct flattened into both modes that take them.
    let tls_longs: Vec<String> =
        <crate::tls::TlsCli as clap::Args>::augment_args(clap::Command::new("t"))
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
    assert!(!tls_longs.is_empty());
    for name in ["echoprobe", "scp"] {
        let cmd = if name == "scp" {
            command.find_subcommand("scp").unwrap()
        } else {
            &command
        };
        for long in &tls_longs {
            assert!(
                cmd.get_arguments()
                    .any(|a| a.get_long().is_some_and(|l| format!("--{l}") == *long)),
                "{name} lacks {long}"
            );
        }
    }
}

#[test]
fn ae_title_decisions_are_the_cores() {
    for s in [
        "",
        "   ",
        "ABCDEFGHIJKLMNOPQ",
        "A\\B",
        "ÄB",
        "OK",
        " PADDED ",
        "ABCDEFGHIJKLMNOP",
    ] {
        assert_eq!(
            parse_ae_title(s).is_ok(),
            echoprobe_core::wire::AeTitle::new(s).is_ok(),
            "{s:?}"
        );
    }
    assert_eq!(parse_ae_title(" PADDED "), Ok("PADDED".to_string()));
}

#[test]
fn tls_with_one_file_names_the_option_taken_as_certificate() {
    let text = usage_error(&["+tls", "lb.key", "+cf", "ca.pem", "host", "2762"]);
    assert!(
        text.contains(
            "+tls takes two values, KEY and CERT: option +cf was taken as the certificate"
        ),
        "{text}"
    );
    let text = usage_error(&["--enable-tls", "-d", "k", "c", "host", "2762"]);
    assert!(
        text.contains("option -d was taken as the private key"),
        "{text}"
    );
}

#[test]
fn serve_and_status_subcommands() {
    let p = |args: &[&str]| parse("echoprobe", args.iter().map(|s| s.to_string()).collect());
    assert_eq!(
        p(&["serve"]).unwrap(),
        Invocation::Serve(ServeOptions {
            config: DEFAULT_CONFIG.into(),
            check_config: false
        })
    );
    assert_eq!(
        p(&["serve", "--check-config", "--config", "x.toml"]).unwrap(),
        Invocation::Serve(ServeOptions {
            config: "x.toml".into(),
            check_config: true
        })
    );
    assert!(
        matches!(p(&["serve", "--help"]), Ok(Invocation::Help(t)) if t.contains("--check-config"))
    );
    assert_eq!(p(&["serve", "--bogus"]).unwrap_err().code(), 1);
    assert_eq!(
        p(&["status", "pacs", "--http", "127.0.0.1:9104"]).unwrap(),
        Invocation::Status(StatusOptions {
            name: "pacs".into(),
            agent: None,
            http: Some("127.0.0.1:9104".into()),
            config: None
        })
    );
    assert_eq!(
        p(&["status", "pacs", "--agent", "127.0.0.1:5555"]).unwrap(),
        Invocation::Status(StatusOptions {
            name: "pacs".into(),
            agent: Some("127.0.0.1:5555".into()),
            http: None,
            config: None
        })
    );
    let help = p(&["status", "--help"]);
    assert!(
        matches!(&help, Ok(Invocation::Help(t)) if t.contains("--agent") && t.contains("no verdict")),
        "{help:?}"
    );
    assert_eq!(p(&["status"]).unwrap_err().code(), 1);
    let both = p(&["status", "a", "--http", "h:1", "--config", "c"]).unwrap_err();
    assert_eq!(both.code(), 1);
    assert!(both.to_string().contains("give one of them"), "{both}");
    let both = p(&["status", "a", "--agent", "h:1", "--http", "h:2"]).unwrap_err();
    assert_eq!(both.code(), 1);
    assert!(
        both.to_string()
            .contains("--agent and --http: give one of them"),
        "{both}"
    );
    // echoscu has no subcommands: `serve` is a peer name there.
    assert!(matches!(
        parse("echoscu", vec!["serve".into(), "104".into()]),
        Ok(Invocation::Echo(o, _)) if o.peer == "serve"
    ));
}
