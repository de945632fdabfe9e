//! The HTML page (`--format html`) in a real browser: headless Chromium loads it with the
//! slider set by the address (`?t=N`, which the page's script turns into an `input` event on
//! the slider), and the table it shows is read back from the DOM and checked against the
//! report: the same rows as `procsim top --at N`, and the demo's tick 6 as worked by hand.
//! `.ci/run` installs Chromium where it is missing; without it these tests say so and pass.

use std::path::{Path, PathBuf};
use std::process::Command;

fn procsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(args)
        .output()
        .expect("procsim runs")
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// The page at `url`, as the browser's DOM after its scripts ran.
fn dump_dom(browser: &Path, profile: &Path, url: &str) -> String {
    let o = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .output()
        .expect("chromium runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The text of each cell of each row of the process table's body.
fn table_rows(dom: &str) -> Vec<Vec<String>> {
    let start = dom.find("<table id=\"procs\">").expect("the table");
    let body = &dom[start..];
    let body = &body[body.find("<tbody>").expect("tbody")..body.find("</tbody>").expect("/tbody")];
    body.split("<tr")
        .skip(1)
        .map(|tr| {
            tr.split("<td")
                .skip(1)
                .map(|td| {
                    let text = &td[td.find('>').unwrap() + 1..td.find("</td>").unwrap()];
                    text.replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&amp;", "&")
                })
                .collect()
        })
        .collect()
}

/// The rows of `procsim top FILE --at T`, split as the page's cells are.
fn top_rows(file: &str, t: u64) -> Vec<Vec<String>> {
    let o = procsim(&["top", file, "--at", &t.to_string()]);
    assert!(o.status.success(), "{o:?}");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .skip_while(|l| !l.starts_with("PID"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

fn count(dom: &str, state: &str) -> String {
    let key = format!("id=\"count-{state}\"");
    let at = dom.find(&key).expect("the count");
    let rest = &dom[at..];
    rest[rest.find('>').unwrap() + 1..rest.find('<').unwrap()].to_owned()
}

#[test]
fn the_slider_shows_the_table_at_each_moment() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no chromium on PATH (.ci/run installs it)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("procsim-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        "scenarios/demo.json",
        "scenarios/proc-kill9-orphan.json",
        "scenarios/sched-mlfq-two-cpus.json",
    ];
    for (i, file) in files.iter().enumerate() {
        // The start, the middle and the end of the run (its end from the text view's header).
        let o = procsim(&["top", file, "--at", "0"]);
        let header = String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .unwrap()
            .to_owned();
        let end: u64 = header.rsplit(' ').next().unwrap().parse().unwrap();
        let moments = [0, end / 2, end];
        let o = procsim(&["run", file, "--format", "html"]);
        assert!(o.status.success(), "{o:?}");
        let page = dir.join(format!("page-{i}.html"));
        std::fs::write(&page, &o.stdout).unwrap();
        for t in moments {
            let url = format!("file://{}?t={t}", page.display());
            let dom = dump_dom(&browser, &dir.join(format!("profile-{i}-{t}")), &url);
            let shown = table_rows(&dom);
            assert!(!shown.is_empty(), "{file} at {t}: an empty table");
            assert_eq!(shown, top_rows(file, t), "{file} at {t}");
            // The slider's label moved too.
            assert!(
                dom.contains(&format!("tick {t} of {end}</output>")),
                "{file} at {t}"
            );
            let running = shown.iter().filter(|r| r[3] == "running").count();
            assert_eq!(count(&dom, "running"), running.to_string(), "{file} at {t}");
        }
    }
    // The demo at tick 6, worked by hand from the README's timeline.
    let dom = dump_dom(
        &browser,
        &dir.join("profile-demo-6"),
        &format!("file://{}#t=6", dir.join("page-0.html").display()),
    );
    let want = [
        ["2", "1", "P1", "ready", "4", "-", "init"],
        ["3", "1", "shell", "blocked (join)", "2", "-", "init"],
        ["4", "1", "editor", "running", "0", "0", "init"],
        ["5", "3", "Process-1", "ready", "0", "-", "shell"],
    ];
    assert_eq!(
        table_rows(&dom),
        want.map(|r| r.map(str::to_owned).to_vec())
    );
    assert_eq!(
        ["new", "ready", "running", "blocked", "terminated"].map(|s| count(&dom, s)),
        ["0", "2", "1", "1", "0"]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// scenarios/thread-switch.json (one CPU, context_switch 2, thread_switch 1; its description
/// derives the times): MainThread waits for its context switch 0–2, starts Thread-1 (spin) at 2
/// and joins it (blocked 2–6); the thread waits for its thread switch 2–3, runs 3–6 and ends;
/// MainThread gets the CPU back after a thread switch 6–7 and the process ends at 7, reaped by
/// init. So the table lists the thread (pid column: its tid 3; ppid: its process's pid 2;
/// parent: its process) under MainProcess from tick 2: ready at 2, running on CPU 0 at 4 with
/// 1 tick of CPU (3–4), exited at 7 with 3. The states count processes: at 4, one blocked and
/// none running. Without Chromium, the page's data are checked: a thread's row has an
/// eleventh item, `true`.
#[test]
fn threads_have_rows_under_their_process() {
    let file = "scenarios/thread-switch.json";
    let o = procsim(&["run", file, "--format", "html"]);
    assert!(o.status.success(), "{o:?}");
    let html = String::from_utf8(o.stdout).unwrap();
    let data = &html[html.find("id=\"data\">").unwrap() + 10..];
    let data: serde_json::Value =
        serde_json::from_str(&data[..data.find("</script>").unwrap()]).unwrap();
    let thread_rows: Vec<&serde_json::Value> = data["frames"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["rows"].as_array().unwrap())
        .filter(|r| r.get(10) == Some(&serde_json::Value::Bool(true)))
        .collect();
    // At 2 (ready), 3 (running), 6 (exited).
    assert_eq!(thread_rows.len(), 3, "{thread_rows:?}");
    // A row names its task and its parent by their places in the page's `names`.
    let name =
        |r: &serde_json::Value, at: usize| data["names"][r[at].as_u64().unwrap() as usize].clone();
    assert!(thread_rows.iter().all(|r| r[0] == 1
        && r[1] == 3
        && name(r, 3) == "Thread-1 (spin)"
        && name(r, 8) == "MainProcess"));
    let Some(browser) = chromium() else {
        eprintln!("skipped the browser's part: no chromium on PATH (.ci/run installs it)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("procsim-html-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("page.html");
    std::fs::write(&page, &html).unwrap();
    let main = ["2", "1", "MainProcess"];
    let thread = ["3", "2", "Thread-1 (spin)"];
    let moments: [(u64, &[[&str; 4]]); 4] = [
        (1, &[["ready", "0", "-", "init"]]),
        (
            2,
            &[
                ["blocked (join)", "0", "-", "init"],
                ["ready", "0", "-", "MainProcess"],
            ],
        ),
        (
            4,
            &[
                ["blocked (join)", "0", "-", "init"],
                ["running", "1", "0", "MainProcess"],
            ],
        ),
        (
            7,
            &[
                ["exited (0)", "0", "-", "init"],
                ["exited", "3", "-", "MainProcess"],
            ],
        ),
    ];
    let mut dom = String::new();
    for (t, want) in moments {
        let url = format!("file://{}?t={t}", page.display());
        dom = dump_dom(&browser, &dir.join(format!("profile-{t}")), &url);
        let want: Vec<Vec<String>> = [main, thread]
            .iter()
            .zip(want)
            .map(|(who, rest)| who.iter().chain(rest).map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(table_rows(&dom), want, "at {t}");
        let blocked = if t == 2 || t == 4 { "1" } else { "0" };
        assert_eq!(count(&dom, "blocked"), blocked, "at {t}");
        assert_eq!(count(&dom, "running"), "0", "at {t}");
    }
    assert_eq!(count(&dom, "terminated"), "1");
    assert!(dom.contains("<tr class=\"st-terminated thread\">"));
    std::fs::remove_dir_all(&dir).ok();
}
