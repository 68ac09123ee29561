//! The `-h` and `--version` texts, grouped like echoscu's help.

use super::defaults;
use crate::exit;

/// `--version`.
pub(crate) fn version(prog: &str) -> String {
    let name = if prog == "echoprobe" {
        format!("echoprobe {}", env!("CARGO_PKG_VERSION"))
    } else {
        format!("{prog} (echoprobe {})", env!("CARGO_PKG_VERSION"))
    };
    format!(
        "{name}\n\
         DICOM verification (C-ECHO) SCU and SCP; command line compatible with DCMTK echoscu 3.6.x\n\
         TLS: rustls 0.23 with the ring provider (TLS 1.2 and 1.3)\n"
    )
}

/// `-h` in echoscu mode: grouped like echoscu's, with our defaults and the exit code table.
pub(crate) fn help_echo(prog: &str) -> String {
    let first = if prog == "echoscu" {
        format!(
            "{prog}: DICOM verification (C-ECHO) SCU (echoprobe {})",
            env!("CARGO_PKG_VERSION")
        )
    } else {
        format!("{prog}: DICOM verification (C-ECHO) SCU, a truthful and bounded echoscu")
    };
    let subcommands = if prog == "echoscu" {
        String::new()
    } else {
        format!(
            "       {prog} find [options] peer port  C-FIND check (see {prog} find -h)\n\
             \x20      {prog} scp [options] port    C-ECHO SCP (see {prog} scp -h)\n\
             \x20      {prog} demo [options]        an SCP and a check on 127.0.0.1, to try it out\n"
        )
    };
    format!(
        "{first}
usage: {prog} [options] peer port
{subcommands}
parameters:
  peer                         hostname or IP address of DICOM peer
  port                         tcp/ip port number of peer

general options:
  -h      --help               print this help text and exit
          --version            print version information and exit
          --arguments          print expanded command line arguments
  -q      --quiet              quiet mode: no summary, no warnings (errors still
                               go to stderr, the exit code tells the rest)
  -v      --verbose            verbose mode: print the negotiation and each echo
  -d      --debug              debug mode: also hex dump every PDU
  -ll     --log-level          [l]evel: string constant
                               (fatal, error, warn, info, debug, trace)
                               fatal/error = -q, warn = default, info = -v,
                               debug/trace = -d
  -lc     --log-config         [f]ilename: string
                               use config file f for the logger (DCMTK's
                               log4cplus format: root level, console and file
                               appenders; not with -q/-v/-d/-ll; see below)
network options:
  IP protocol version:
    -i4   --ipv4               use IPv4 addresses of the peer name only
                               (DCMTK's default)
    -i6   --ipv6               use IPv6 addresses of the peer name only
    -i0   --ip-auto            use every address the name resolves to (default)
                               (if one is refused or unreachable, the next is
                               tried, all within -to)
  application entity titles:
    -aet  --aetitle            [a]etitle: string
                               set my calling AE title (default: {calling})
    -aec  --call               [a]etitle: string
                               set called AE title of peer (default: {called})
                               (1 to 16 printable characters, no backslash)
  association negotiation debugging:
    -pts  --propose-ts         [n]umber: integer (1..38)
                               propose n transfer syntaxes
    -ppc  --propose-pc         [n]umber: integer (1..128)
                               propose n presentation contexts
  other network options:
    -to   --timeout            [s]econds: number (default: 10; echoscu: unlimited)
                               timeout for connection requests
    -ts   --socket-timeout     [s]econds: number (default: 60, 0 for none)
                               timeout for each socket write
    -ta   --acse-timeout       [s]econds: number (default: 30)
                               timeout for ACSE messages
    -td   --dimse-timeout      [s]econds: number (default: 10; echoscu: unlimited)
                               timeout for DIMSE messages
    -pdu  --max-pdu            [n]umber of bytes: integer (4096..131072)
                               set max receive pdu to n bytes (default: 16384)
          --repeat             [n]umber: integer
                               repeat n times
          --abort              abort association instead of releasing it
echoprobe options:
          --deadline           [s]econds: number (default: 30, 0 for none)
                               overall limit for the whole check: name lookup,
                               connect, association, every echo, release; it caps
                               every timeout above (exit code 72 when it hits)
          --json               print the result as one JSON object on stdout
  Timeouts take whole seconds like echoscu, or decimals (-to 0.5).
transport layer security (TLS) options:
  transport protocol stack:
    -tls  --disable-tls        use normal TCP/IP connection (default)
    +tls  --enable-tls         [p]rivate key file, [c]ertificate file: string
                               use authenticated secure TLS connection
    +tla  --anonymous-tls      use secure TLS connection without certificate
  private key password (only with --enable-tls):
    +ps   --std-passwd         prompt user to type password on stdin (default)
    +pw   --use-passwd         [p]assword: string
                               use specified password
    -pw   --null-passwd        use empty string as password
                               (PKCS#8 and OpenSSL's legacy encrypted PEM;
                               wrong or missing password: exit code 84)
  key and certificate file format:
    -pem  --pem-keys           read keys and certificates as PEM file (default)
    -der  --der-keys           read keys and certificates as DER file
  certification authority:
    +cf   --add-cert-file      [f]ilename: string
                               add certificate file to list of certificates
    +cd   --add-cert-dir       [d]irectory: string
                               add certificates in d to list of certificates
    +crl  --add-crl-file       [f]ilename: string
                               add certificate revocation list file
                               (implies --enable-crl-vfy)
    +crv  --enable-crl-vfy     enable leaf CRL verification
    +cra  --enable-crl-all     enable full chain CRL verification
                               (a revoked peer certificate is exit code 81; an
                               expired CRL fails like in OpenSSL)
  security profile:
    +py   --profile-bcp195-nd  Non-downgrading BCP 195 TLS Profile (default):
                               TLS 1.2 and 1.3, ECDHE with AES-GCM/ChaCha20
    +px   --profile-bcp195     BCP 195 TLS Profile (same as +py with rustls)
    +pz   --profile-bcp195-ex  Extended BCP 195 TLS Profile (TLS 1.2 only, the
                               four ECDHE AES-GCM suites, as DCMTK)
    +pa, +pn                   retired profiles: refused (rustls has no CBC or
                               NULL suites)
  ciphersuite:
    +cc   --list-ciphers       show list of supported TLS ciphersuites and exit
    +cs   --cipher             [c]iphersuite name: string (IANA or OpenSSL name)
                               add ciphersuite to list of negotiated suites
    +dp   --dhparam            [f]ilename: string (accepted, unused: no DHE)
  pseudo random generator:
    +rs   --seed               [f]ilename: string (accepted, unused: rustls
    +ws   --write-seed         seeds from the OS; +ws/+wf write nothing)
    +wf   --write-seed-file    [f]ilename: string
  peer authentication:
    -rc   --require-peer-cert  verify peer certificate, fail if absent (default)
    -vc   --verify-peer-cert   verify peer certificate if present (= -rc here)
    -ic   --ignore-peer-cert   don't verify peer certificate (DANGEROUS)
          --verify-host-name   also check that the server certificate names the
                               peer (DCMTK does not; exit code 83 if not)
  offline certificate verification:
    +vc   --verify-cert        [f]ilename: string
                               verify certificate against CA settings (+cf, +cd,
                               +crl; needs +tla or +tls) and exit
    +rc   --is-root-cert       [f]ilename: string
                               check if certificate is self-signed root CA and exit
                               (exit 0 if so; else 81/82/84 where DCMTK says 22)
  The chain and validity of the server certificate are checked against the +cf
  and +cd certificates; the host name is not (as in DCMTK). -v prints what each
  accepted-but-unused option means.

log configuration (-lc):
  The root logger's level works like -ll (OFF = -q). A ConsoleAppender prints
  progress and warnings on stderr with logToStderr = true, else stdout; one
  FileAppender or RollingFileAppender gets progress, debug lines, PDU dumps,
  warnings and errors (File, Append, CreateDirs; a rolling file is rotated at
  start when over MaxFileSize). Errors are always printed on stderr too; the
  summary line and --json stay on stdout. Threshold per appender is honoured;
  layouts, ImmediateFlush and named DCMTK loggers are ignored (-v says so);
  syslog, socket and daily appenders, filters and unknown keys are refused
  (exit code 1, naming the key). DCMTK's /etc/dcmtk/logger.cfg works as is.

output:
  healthy: one line on stdout, e.g.
    {prog}: 127.0.0.1:11112 LB-SCP <- LOADBALANCER: healthy, 1 echo, rtt 0.412 ms,
    max PDU 16384 (total 1.9 ms)
  otherwise: one line on stderr saying what went wrong, and the exit code below.
  Arguments of the form @file are replaced by the words in file (as DCMTK does).

{table}",
        calling = defaults::CALLING_AE,
        called = defaults::CALLED_AE,
        table = exit::help_table(),
    )
}

/// `scp -h`.
pub(crate) fn help_scp(prog: &str) -> String {
    format!(
        "{prog} scp: DICOM verification (C-ECHO) SCP
usage: {prog} scp [options] port

parameters:
  port                         tcp/ip port number to listen on (0: any free port)

options:
  -h      --help               print this help text and exit
  -q      --quiet              print errors only
  -v      --verbose            also print each A-ASSOCIATE-RQ, the negotiation
                               and each C-ECHO-RQ (default: the listening line
                               and one line per association on stdout)
  -d      --debug              also hex dump every PDU
  -ll     --log-level          [l]evel: fatal, error, warn, info, debug, trace
  -lc     --log-config         [f]ilename: DCMTK logger configuration file (as
                               echoprobe -h describes; not with -q/-v/-d/-ll)
  -aet    --aetitle            [a]etitle: string
                               my AE title (default: {ae})
          --require-called-aet reject associations whose called AE title is not
                               mine (A-ASSOCIATE-RJ 1/1/7)
          --allow-calling      [a]etitle: string (repeatable)
                               accept only these calling AE titles, reject others
                               with A-ASSOCIATE-RJ 1/1/3 (default: any)
          --status             [s]tatus: 0xNNNN or decimal (default: 0x0000)
                               status of every C-ECHO-RSP (to test checkers)
          --bind               [a]ddress: IPv4 or IPv6 address (default: {bind},
                               every interface, like storescp; use 127.0.0.1 or ::1
                               for local tests)
          --max-associations   [n]umber: integer (default: {max_assoc})
                               concurrent associations; further connections get
                               A-ASSOCIATE-RJ 2/3/2 (local limit exceeded)
          --idle-timeout       [s]econds: number (default: {idle})
                               close an association idle for this long
  -ta     --acse-timeout       [s]econds: number (default: 30)
                               wait this long for the A-ASSOCIATE-RQ
  -pdu    --max-pdu            [n]umber of bytes: integer (4096..131072)
                               max receive pdu (default: 16384)
          --exit-after         [n]umber: integer
                               exit after n associations (default: run until killed)

find options (C-FIND SCP for the study root, patient root and worklist models):
          --record             [r]ecord: KEY=VALUE,KEY=VALUE,... (repeatable)
                               answer C-FIND from this record (keys as in
                               {prog} find -h: keywords or gggg,eeee)
          --records            [f]ilename: one record per line, as --record
                               (# comments); without records no FIND context
                               is accepted

TLS options (DCMTK storescp spelling):
  -tls    --disable-tls        plain TCP (default)
  +tls    --enable-tls         [p]rivate key file, [c]ertificate file: string
                               accept TLS connections only
  -pem/-der, +ps/+pw/-pw       key and certificate format, key password (as echoprobe -h)
  +cf     --add-cert-file      [f]ilename: trusted certificates for client certificates
  +cd     --add-cert-dir       [d]irectory: the same, every certificate file in d
  -rc     --require-peer-cert  clients must send a certificate signed by a trusted
                               CA (default; needs +cf or +cd)
  -vc     --verify-peer-cert   verify a client certificate if one is sent
  -ic     --ignore-peer-cert   do not ask clients for a certificate
  +py/+px/+pz, +cs, +cc, +dp, +rs/+ws/+wf   as echoprobe -h
  The TLS handshake is bounded by -ta; a failed handshake is logged with its cause.
",
        ae = defaults::SCP_AE,
        bind = defaults::SCP_BIND,
        max_assoc = defaults::SCP_MAX_ASSOCIATIONS,
        idle = defaults::SCP_IDLE_TIMEOUT.as_secs(),
    )
}

/// `demo -h`.
pub(crate) fn help_demo(prog: &str) -> String {
    format!(
        "{prog} demo: start a C-ECHO SCP on 127.0.0.1 (any free port) and check it, verbosely
usage: {prog} demo [options]

options:
  -h      --help               print this help text and exit
  -q      --quiet              print errors only (the exit code says the rest)
  -v      --verbose            print the negotiation and each echo (default)
  -d      --debug              also hex dump every PDU
          --repeat             [n]umber: send n C-ECHO-RQs (default: 1)
          --status             [s]tatus: the demo SCP answers with this status
                               (default: 0x0000; try 0x0110 to see exit code 68)
  -aec    --call               [a]etitle: called AE title the check uses (default:
                               {ae}; the SCP checks it: try WRONG for exit code 61)
          --json               print the result as JSON
          --find               a find check (C-FIND, study root) of the demo
                               SCP's one record instead of an echo

The demo exits with the check's exit code:
{table}",
        ae = defaults::SCP_AE,
        table = exit::help_table(),
    )
}
