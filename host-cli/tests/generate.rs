//! `echoprobe generate man|bash|zsh|fish [DIR]`: the man pages and shell completions come from the clap definition
//! and document the options users type (echoscu's `-aet`, `+tls`, and echoprobe's `--deadline`).

use core::time::Duration;
use std::path::Path;
use std::process::Command;

use echoprobe_tests::process::TempDir;
use echoprobe_tests::run;

fn generate(kind: &str, dir: &Path) -> Vec<String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.args(["generate", kind]).arg(dir);
    let out = run(&mut cmd, Duration::from_secs(10));
    out.assert_code(0);
    out.stdout.lines().map(str::to_string).collect()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn man_pages() {
    let dir = TempDir::new("gen-man");
    let man1 = dir.path().join("share/man/man1");
    let written = generate("man", &man1);
    let names: Vec<&str> = written
        .iter()
        .map(|p| p.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        [
            "echoprobe.1",
            "echoprobe-scp.1",
            "echoprobe-demo.1",
            "echoprobe-find.1"
        ],
        "{written:?}"
    );
    // roff writes '-' as '\-'.
    let page = read(&written[0]).replace("\\-", "-");
    for needle in [
        ".TH echoprobe 1",
        "[-aet]",
        "--aetitle",
        "[+tls]",
        "--enable-tls",
        "--deadline",
        "[-lc]",
        "[-i6]",
        "EXIT STATUS",
        "72  overall deadline",
        "echoprobe generate",
    ] {
        assert!(
            page.contains(needle),
            "echoprobe.1 lacks {needle:?}:\n{page}"
        );
    }
    let scp = read(&written[1]).replace("\\-", "-");
    assert!(
        scp.contains("--require-called-aet") && scp.contains("[+tls]"),
        "{scp}"
    );
}

#[test]
fn completions() {
    let dir = TempDir::new("gen-completions");
    for (shell, file, needles) in [
        // bash completes words only: the long forms.
        (
            "bash",
            "echoprobe.bash",
            &["--aetitle", "--enable-tls", "--deadline", "scp"][..],
        ),
        // zsh and fish also show each option's help, which names echoscu's spelling.
        (
            "zsh",
            "_echoprobe",
            &["-aet", "+tls", "--deadline", "aetitle"],
        ),
        (
            "fish",
            "echoprobe.fish",
            &["-aet", "+tls", "deadline", "aetitle"],
        ),
    ] {
        let written = generate(shell, dir.path());
        assert_eq!(written.len(), 1, "{written:?}");
        assert!(written[0].ends_with(file), "{written:?}");
        let text = read(&written[0]);
        for needle in needles {
            assert!(text.contains(needle), "{shell}: {needle:?} missing");
        }
    }
    // bash accepts what it generated.
    let mut cmd = Command::new("bash");
    cmd.arg("-n").arg(dir.path().join("echoprobe.bash"));
    run(&mut cmd, Duration::from_secs(10)).assert_code(0);
}

/// The completions also offer DCMTK's spellings (`-aet`, `+tls` ...), taken from the option table: bash's completion
/// function, called as bash calls it, offers them for a prefix; zsh and fish list them.
#[test]
fn completions_offer_dcmtk_spellings() {
    let dir = TempDir::new("gen-dcmtk-completions");
    let bash = generate("bash", dir.path());
    // What bash offers for `echoprobe WORD<TAB>` after `echoprobe -v`, through the function `complete -p` names.
    let offers = |word: &str| {
        let script = r#"source "$0" || exit 9
            set -- $(complete -p echoprobe)
            while [ "$#" -gt 1 ] && [ "$1" != -F ]; do shift; done
            COMP_WORDS=(echoprobe -v "$WORD")
            COMP_CWORD=2
            "$2" echoprobe "$WORD" -v
            printf '%s\n' "${COMPREPLY[@]}""#;
        let mut cmd = Command::new("bash");
        cmd.args(["-c", script, &bash[0]]).env("WORD", word);
        let out = run(&mut cmd, Duration::from_secs(10));
        out.assert_code(0);
        out.stdout.lines().map(str::to_string).collect::<Vec<_>>()
    };
    assert_eq!(offers("-ae"), ["-aet", "-aec"]);
    assert_eq!(offers("+tl"), ["+tls", "+tla"]);
    // The long forms as before.
    assert_eq!(offers("--aet"), ["--aetitle"]);
    assert!(offers("-t").contains(&"-to".to_string()));
    assert!(offers("-t").contains(&"-ta".to_string()));
    // Refused spellings (+pa, +pn) are not offered.
    assert!(!offers("+p").contains(&"+pa".to_string()));

    let zsh = read(&generate("zsh", dir.path())[0]);
    for needle in ["'-aet:--aetitle'", "'+tls:--enable-tls'", "'-to:--timeout'"] {
        assert!(zsh.contains(needle), "zsh: {needle:?} missing");
    }
    let fish = generate("fish", dir.path());
    let text = read(&fish[0]);
    for needle in [
        "complete -c echoprobe -o 'aet' -d 'echoscu spelling of --aetitle' -r",
        "complete -c echoprobe -a '+tls' -d 'echoscu spelling of --enable-tls'",
        "complete -c echoprobe -o 'ta' -d 'echoscu spelling of --acse-timeout' -r",
    ] {
        assert!(text.contains(needle), "fish: {needle:?} missing");
    }
    // Where the shells are installed, they accept the scripts.
    for (shell, file) in [
        ("fish", &fish[0]),
        ("zsh", &dir.path().join("_echoprobe").display().to_string()),
    ] {
        if Command::new(shell).arg("--version").output().is_ok() {
            let mut cmd = Command::new(shell);
            cmd.arg("-n").arg(file);
            run(&mut cmd, Duration::from_secs(10)).assert_code(0);
        }
    }
    if Command::new("fish").arg("--version").output().is_ok() {
        let mut cmd = Command::new("fish");
        cmd.args([
            "-c",
            r#"source $argv[1]; complete -C "echoprobe -ae"; complete -C "echoprobe +tl""#,
        ])
        .arg(&fish[0]);
        let out = run(&mut cmd, Duration::from_secs(10));
        out.assert_code(0)
            .assert_stdout("-aet\t")
            .assert_stdout("+tls\t");
    }
}

#[test]
fn bad_kinds_are_usage_errors() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_echoprobe"));
    cmd.args(["generate", "tcsh"]);
    run(&mut cmd, Duration::from_secs(10))
        .assert_code(1)
        .assert_mentions("usage: echoprobe generate man|bash|zsh|fish");
    // As echoscu there is no generate: it is a host name.
    let link_dir = TempDir::new("gen-echoscu");
    let link = link_dir.path().join("echoscu");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_echoprobe"), &link).expect("symlink");
    let mut cmd = Command::new(&link);
    cmd.args(["generate", "man"]);
    run(&mut cmd, Duration::from_secs(10))
        .assert_code(1)
        .assert_mentions("invalid port");
}
