//! The daemon's status page (`GET /`) in headless Chromium (Debian's): the DOM after its scripts ran shows every
//! target with its state and an inline SVG chart, loads nothing from elsewhere and refreshes itself; a screenshot
//! is kept as `target/serve-status.png` in the workspace (CI archives it).

use core::time::Duration;
use std::time::Instant;

use echoprobe_tests::monitoring::{artifact, must_get, Chromium};
use echoprobe_tests::peers::{dcmqrscp, echoprobe_scp};
use echoprobe_tests::serve::{target, Serve, DEFAULTS};
use echoprobe_tests::{free_port, setup};

#[test]
fn status_page_in_chromium() {
    setup();
    let start = Instant::now();
    let up = echoprobe_scp(&["-aet", "PACS"]);
    let archive = dcmqrscp("ARCHIVE");
    let dead = free_port();
    // (name, state): one up, one rejected (dcmqrscp has no AE WRONGAE), one refused.
    let targets = [
        ("pacs-main", "up"),
        ("archive-wrong-ae", "down"),
        ("pacs-stopped", "down"),
    ];
    let serve = Serve::start(&format!(
        "{DEFAULTS}{}{}{}",
        target("pacs-main", up.port, "PACS"),
        target("archive-wrong-ae", archive.port, "WRONGAE"),
        target("pacs-stopped", dead, "PACS"),
    ));
    for (name, state) in targets {
        serve.wait_state(name, state);
    }
    // A few more checks each, so that every chart has points.
    std::thread::sleep(Duration::from_secs(2));

    let page = must_get(&serve.http, "/");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        page.head
    );

    let chromium = Chromium::new();
    let url = format!("http://{}/", serve.http);
    let dom = chromium.dump_dom(&url);
    let lower = dom.to_ascii_lowercase();
    // Every target with its own state: after one of the places the page names the target, the text up to the next
    // place it names another target says the state (a table row, a card: whatever the layout).
    let names: Vec<&str> = targets.iter().map(|(name, _)| *name).collect();
    for (name, state) in targets {
        let shown = lower.match_indices(name).any(|(pos, _)| {
            let rest = &lower[pos + name.len()..];
            let end = names
                .iter()
                .filter(|other| **other != name)
                .filter_map(|other| rest.find(other))
                .min()
                .unwrap_or(rest.len());
            rest[..end].contains(state)
        });
        assert!(
            shown,
            "the page does not show target {name} as {state:?}:\n{dom}"
        );
    }
    let charts = lower.matches("<svg").count();
    assert!(
        charts >= targets.len(),
        "one inline SVG latency chart per target expected, found {charts}:\n{dom}"
    );
    // No external assets: the page works with no network.
    for external in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "@import",
    ] {
        assert!(
            !lower.contains(external),
            "the page loads {external}...:\n{dom}"
        );
    }
    // It refreshes itself: a meta refresh or a script (polling /api/targets).
    assert!(
        lower.contains("http-equiv=\"refresh\"") || lower.contains("<script"),
        "the page neither refreshes nor polls:\n{dom}"
    );

    let png = artifact("serve-status.png");
    chromium.screenshot(&url, &png);
    // Each wait has its own bound; this one bounds the whole on a loaded machine (2 CPUs, load 15+ seen).
    assert!(
        start.elapsed() < Duration::from_secs(300),
        "took {:?}",
        start.elapsed()
    );
}
