//! The queue's Lua scripts: each is `queue_common.lua` (keys, clock, shared steps) followed
//! by its own file (the scheduler scripts' by `queue_sched_common.lua` first), assembled
//! once per process.

use std::sync::LazyLock;

use crate::script::Script;

macro_rules! queue_script {
    ($name:literal $(, $shared:literal)?) => {
        LazyLock::new(|| {
            let source = [
                include_str!("../../lua/queue_common.lua"),
                $(include_str!(concat!("../../lua/", $shared, ".lua")),)?
                include_str!(concat!("../../lua/", $name, ".lua")),
            ]
            .concat();
            Script::new($name, Box::leak(source.into_boxed_str()))
        })
    };
}

pub(crate) static ADD: LazyLock<Script> = queue_script!("queue_add");
pub(crate) static TAKE: LazyLock<Script> = queue_script!("queue_take");
pub(crate) static FINISH: LazyLock<Script> = queue_script!("queue_finish");
pub(crate) static EXTEND: LazyLock<Script> = queue_script!("queue_extend");
pub(crate) static MAINTAIN: LazyLock<Script> = queue_script!("queue_maintain");
pub(crate) static PROGRESS: LazyLock<Script> = queue_script!("queue_progress");
pub(crate) static LOG: LazyLock<Script> = queue_script!("queue_log");
pub(crate) static STATE: LazyLock<Script> = queue_script!("queue_state");
pub(crate) static JOBS: LazyLock<Script> = queue_script!("queue_jobs");
pub(crate) static REMOVE: LazyLock<Script> = queue_script!("queue_remove");
pub(crate) static PROMOTE: LazyLock<Script> = queue_script!("queue_promote");
pub(crate) static RETRY: LazyLock<Script> = queue_script!("queue_retry");
pub(crate) static CLEAN: LazyLock<Script> = queue_script!("queue_clean");
pub(crate) static DRAIN: LazyLock<Script> = queue_script!("queue_drain");
pub(crate) static OBLITERATE: LazyLock<Script> = queue_script!("queue_obliterate");
pub(crate) static PAUSE: LazyLock<Script> = queue_script!("queue_pause");
pub(crate) static CANCEL: LazyLock<Script> = queue_script!("queue_cancel");
pub(crate) static SCHED_UPSERT: LazyLock<Script> =
    queue_script!("queue_sched_upsert", "queue_sched_common");
pub(crate) static SCHED_NEXT: LazyLock<Script> =
    queue_script!("queue_sched_next", "queue_sched_common");
pub(crate) static SCHED_REMOVE: LazyLock<Script> =
    queue_script!("queue_sched_remove", "queue_sched_common");
pub(crate) static WORKERS: LazyLock<Script> = queue_script!("queue_workers");

/// Every queue script, for [`crate::script::all`].
pub(crate) fn all() -> Vec<&'static Script> {
    vec![
        &ADD,
        &TAKE,
        &FINISH,
        &EXTEND,
        &MAINTAIN,
        &PROGRESS,
        &LOG,
        &STATE,
        &JOBS,
        &REMOVE,
        &PROMOTE,
        &RETRY,
        &CLEAN,
        &DRAIN,
        &OBLITERATE,
        &PAUSE,
        &CANCEL,
        &SCHED_UPSERT,
        &SCHED_NEXT,
        &SCHED_REMOVE,
        &WORKERS,
    ]
}
