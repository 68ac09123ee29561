//! `echoprobe generate man|bash|zsh|fish|elvish|powershell [DIR]`: the man pages (`echoprobe.1`,
//! `echoprobe-scp.1`, `echoprobe-demo.1`, `echoprobe-find.1`, with clap_mangen) or a shell completion script (clap_complete), made from the
//! clap definition ([`crate::cli::clap_command`]) and written into DIR (default: the current directory, created if
//! missing). The completions also offer DCMTK's spellings (`-aet`, `+tls` ...) from the option table. Not listed in
//! `-h`: it is for installing, documented in the README and the man page.

use std::path::{Path, PathBuf};

use clap_complete::Shell;

use crate::cli::GenerateKind as Kind;
use crate::exit::{self, Failure};

/// Writes the files and prints their paths on stdout; returns the exit code.
pub(crate) fn run(prog: &str, kind: Kind, dir: &Path) -> u8 {
    match write(kind, dir) {
        Ok(paths) => {
            for p in paths {
                crate::log::stdout_line(format_args!("{}", p.display()));
            }
            exit::HEALTHY
        }
        Err(e) => {
            let f = Failure::Local(format!("cannot write into {}: {e}", dir.display()));
            crate::log::stderr_line(format_args!("{prog}: {f}"));
            f.code()
        }
    }
}

fn write(kind: Kind, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut cmd = crate::cli::clap_command();
    match kind {
        Kind::Completion(shell) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "echoprobe", &mut script);
            let script = with_dcmtk_spellings(shell, String::from_utf8_lossy(&script).into_owned())
                .map_err(std::io::Error::other)?;
            let path = dir.join(clap_complete::Generator::file_name(&shell, "echoprobe"));
            std::fs::write(&path, script)?;
            Ok(vec![path])
        }
        Kind::Man => {
            cmd.build();
            let mut paths = Vec::new();
            let subcommands: Vec<clap::Command> = cmd.get_subcommands().cloned().collect();
            for sub in subcommands {
                let man = clap_mangen::Man::new(sub);
                let path = dir.join(man.get_filename());
                let mut text = Vec::new();
                man.render(&mut text)?;
                text.extend_from_slice(SEE_ALSO.as_bytes());
                std::fs::write(&path, text)?;
                paths.push(path);
            }
            let man = clap_mangen::Man::new(cmd);
            let path = dir.join(man.get_filename());
            let mut text = Vec::new();
            man.render(&mut text)?;
            text.extend_from_slice(extra_sections().as_bytes());
            std::fs::write(&path, text)?;
            paths.insert(0, path);
            Ok(paths)
        }
    }
}

/// A completion script with DCMTK's spellings of the options added (`-aet`, `+tls` ..., from the token table):
/// clap's scripts know only the long forms. bash and zsh get a wrapper around clap's function that adds the words
/// for a word starting with `-` or `+`; fish gets one `complete` line per spelling. Other shells: as clap made it.
fn with_dcmtk_spellings(shell: Shell, script: String) -> Result<String, &'static str> {
    const NOTE: &str = "# DCMTK's spellings of the options (echoscu's -aet, +tls ...), from echoprobe's option table: \
                        clap's completion above knows only the long forms.\n";
    let spellings: Vec<(&str, &str, usize)> = crate::cli::dcmtk_spellings().collect();
    let words: Vec<&str> = spellings.iter().map(|(short, _, _)| *short).collect();
    let words = words.join(" ");
    let replace_once = |script: &str, from: &str, to: &str| match script.matches(from).count() {
        0 => Err("clap_complete's script has an unexpected shape"),
        _ => Ok(script.replace(from, to)),
    };
    Ok(match shell {
        Shell::Bash => {
            let mut out = replace_once(
                &script,
                "complete -F _echoprobe ",
                "complete -F _echoprobe_dcmtk ",
            )?;
            out.push_str(&format!(
                "\n{NOTE}_echoprobe_dcmtk() {{\n    _echoprobe \"$@\"\n    local cur=\"${{COMP_WORDS[COMP_CWORD]}}\"\n    \
                 if [[ \"$cur\" == [-+]* ]]; then\n        \
                 COMPREPLY+=( $(compgen -W \"{words}\" -- \"$cur\") )\n    fi\n}}\n"
            ));
            out
        }
        Shell::Zsh => {
            let dispatch = "if [ \"$funcstack[1]\" = \"_echoprobe\" ]; then";
            let out = replace_once(&script, "\n_echoprobe() {\n", "\n_echoprobe_clap() {\n")?;
            let entries: String = spellings
                .iter()
                .map(|(short, long, _)| format!("        '{short}:{long}'\n"))
                .collect();
            let wrapper = format!(
                "{NOTE}_echoprobe() {{\n    _echoprobe_clap \"$@\"\n    local ret=$?\n    \
                 if [[ $PREFIX == [-+]* ]]; then\n        local -a dcmtk\n        dcmtk=(\n{entries}        )\n        \
                 _describe -t dcmtk-options 'echoscu spelling' dcmtk && ret=0\n    fi\n    return ret\n}}\n\n{dispatch}"
            );
            replace_once(&out, dispatch, &wrapper)?
        }
        Shell::Fish => {
            let mut out = script;
            out.push_str(&format!("\n{NOTE}"));
            for (short, long, values) in &spellings {
                let (flag, name) = match (short.strip_prefix('-'), short.len()) {
                    (Some(name), 2) => ("-s", name),
                    (Some(name), _) => ("-o", name),
                    (None, _) => ("-a", *short),
                };
                let takes = if *values > 0 && flag != "-a" {
                    " -r"
                } else {
                    ""
                };
                out.push_str(&format!(
                    "complete -c echoprobe {flag} '{name}' -d 'echoscu spelling of {long}'{takes}\n"
                ));
            }
            out
        }
        _ => script,
    })
}

const SEE_ALSO: &str = ".SH \"SEE ALSO\"\n\\fBechoprobe\\fR(1)\n";

/// Lines as they are (no filling), for roff: a leading `.` or `'` escaped, backslashes doubled, `-` as `\-`.
fn verbatim(text: &str) -> String {
    let mut out = String::from(".nf\n");
    for line in text.lines() {
        let line = line.replace('\\', "\\e").replace('-', "\\-");
        if line.starts_with('.') || line.starts_with('\'') {
            out.push_str("\\&");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(".fi\n");
    out
}

/// EXIT STATUS, the echoscu syntax and how to install these pages, after clap_mangen's sections.
fn extra_sections() -> String {
    let full = exit::help_table();
    let table = full.strip_prefix("exit codes:\n").unwrap_or(&full);
    format!(
        ".SH \"ECHOSCU SYNTAX\"\n\
         Every option also takes DCMTK echoscu's spelling, shown in brackets before its help: \
         single\\-dash multi\\-letter (\\fB\\-aet\\fR X, \\fB\\-to\\fR 5) and plus options (\\fB+tls\\fR KEY CERT, \
         \\fB+cf\\fR FILE). Arguments of the form @file are replaced by the words in file. Installed or linked as \
         \\fBechoscu\\fR, echoprobe is a drop\\-in: \\fBechoscu scp 104\\fR then checks a host named scp.\n\
         .SH \"EXIT STATUS\"\n{}\
         .SH FILES\n\
         The man pages and shell completions are made by the binary itself: \
         \\fBechoprobe generate man\\fR|\\fBbash\\fR|\\fBzsh\\fR|\\fBfish\\fR [DIR].\n\
         .SH \"SEE ALSO\"\n\\fBechoscu\\fR(1), \\fBstorescp\\fR(1)\n",
        verbatim(table)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clap_definition_is_consistent_and_documents_every_option() {
        let mut cmd = crate::cli::clap_command();
        cmd.build();
        cmd.clone().debug_assert();
        let mut count = 0;
        for c in core::iter::once(&cmd).chain(cmd.get_subcommands()) {
            for arg in c.get_arguments() {
                count += 1;
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                assert!(
                    help.len() > 10,
                    "{} --{:?} has no help string",
                    c.get_name(),
                    arg.get_long()
                );
            }
        }
        assert!(count > 60, "{count}");
    }

    #[test]
    fn verbatim_escapes() {
        assert_eq!(verbatim(".x\n-y \\z\n"), ".nf\n\\&.x\n\\-y \\ez\n.fi\n");
    }
}
