//! The assembler on hand-written events.

use super::*;

fn plan() -> Arc<Plan> {
    crate::load_str(
        r#"{"programs": {"main": {"body": [{"fork": {"as": "w", "program": "w"}}, {"join": "w"}]},
                         "w": {"body": [{"sleep": 1}]}},
            "processes": [{"program": "main"}]}"#,
    )
    .unwrap()
}

#[test]
fn events_make_a_legal_trace_and_the_tree() {
    let mut a = Assembler::new(plan());
    let ev = crate::fork::protocol::from_tagged;
    for line in [
        r#"{"ev":"spawn","key":"0","creator":null,"name":"MainProcess","program":0,"daemon":false,"t":0}"#,
        r#"{"ev":"started","key":"0","pid":2,"t_admit":0}"#,
        r#"{"ev":"run","key":"0","pid":2,"t_admit":0,"t":5}"#,
        r#"{"ev":"spawn","key":"0:1","creator":"0","name":"Process-1","program":1,"daemon":false,"t":6}"#,
        r#"{"ev":"run","key":"0:1","pid":3,"t_admit":7,"t":9}"#,
        r#"{"ev":"started","key":"0:1","pid":3,"t_admit":7}"#,
        r#"{"ev":"trans","key":"0","t":8,"to":"blocked","cause":"join"}"#,
        r#"{"ev":"trans","key":"0:1","t":10,"to":"blocked","cause":"sleep"}"#,
        r#"{"ev":"trans","key":"0:1","t":1000,"to":"ready","cause":"wake"}"#,
        r#"{"ev":"trans","key":"0:1","t":1001,"to":"running","cause":"dispatch"}"#,
        r#"{"ev":"end","key":"0:1","t":1002,"code":0}"#,
        r#"{"ev":"reaped","key":"0:1","pid":3,"t":1005,"by_init":false,"status":{"exited":0},"figures":{"cpu_ns":3000,"wait_ns":2000,"slices":2,"preempted":0}}"#,
        r#"{"ev":"trans","key":"0","t":1006,"to":"ready","cause":"child-exit"}"#,
        r#"{"ev":"trans","key":"0","t":1006,"to":"running","cause":"dispatch"}"#,
        r#"{"ev":"end","key":"0","t":1010,"code":0}"#,
        r#"{"ev":"reaped","key":"0","pid":2,"t":1011,"by_init":true,"status":{"exited":0},"figures":null}"#,
        r#"{"ev":"done","error":null,"killed":[]}"#,
    ] {
        a.apply(ev(line));
    }
    assert!(a.is_done());
    let r = a.finish();
    assert_eq!(r.error, None);
    assert_eq!(r.parent_name(1), "MainProcess");
    assert_eq!(r.parent_name(0), "init");
    use State::*;
    assert_eq!(
        r.folded_states(1),
        vec![New, Ready, Running, Blocked, Ready, Running, Terminated]
    );
    let w = &r.processes[1];
    assert_eq!(
        (w.ppid, w.admitted_at, w.first_run, w.ended_at, w.reaped_at),
        (2, Some(7), Some(9), Some(1002), Some(1005))
    );
    assert_eq!(
        (w.cpu, w.waiting, w.blocked, w.dispatches),
        (3, 2, 995 - 5, 2)
    );
    for e in &r.trace {
        assert!(is_legal_transition(e.from, e.to, e.cause), "{e:?}");
    }
}

#[test]
fn a_signal_death_ends_when_the_sender_saw_it() {
    let mut a = Assembler::new(plan());
    a.apply(Event::Spawn {
        key: "0".into(),
        creator: None,
        name: "M".into(),
        program: 1,
        daemon: false,
        t: 0,
    });
    a.apply(Event::Run {
        key: "0".into(),
        pid: 2,
        t_admit: 0,
        t: 1,
    });
    a.apply(Event::Trans {
        key: "0".into(),
        thread: None,
        t: 2,
        to: State::Blocked,
        cause: Cause::Sleep,
    });
    a.apply(Event::Signalled {
        key: "0".into(),
        t: 50,
    });
    a.apply(Event::Reaped {
        key: Some("0".into()),
        pid: 2,
        t: 60,
        by_init: true,
        status: Status::Signaled(9),
        figures: None,
    });
    a.apply(Event::Done {
        error: None,
        killed: vec![],
    });
    let r = a.finish();
    let p = &r.processes[0];
    assert_eq!(
        (p.exitcode, p.signal.as_deref(), p.ended_at, p.reaped_at),
        (Some(-9), Some("SIGKILL"), Some(50), Some(60))
    );
    assert_eq!(r.trace.last().unwrap().from, State::Blocked);
}
