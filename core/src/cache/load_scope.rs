//! Which loads a `get_or_set` call is made from, so that a loader asking for its own entry
//! (directly, or through a cycle A → B → A) is refused at once instead of waiting for the
//! load it is part of, forever.
//!
//! The scope travels with the loader. A Rust loader's future runs inside [`Scoped`], which
//! makes its scope [`LoadScope::current`] during each of its polls, so a `get_or_set`
//! awaited inside it finds the scope with no help. A host whose loaders run outside the
//! core's polls (a JS promise, a Python coroutine) cannot see that: each load has an id
//! (the [`HostCall::id`](crate::host::HostCall::id) of a host loader), which the binding
//! keeps in a host-side context while the loader runs and hands back with each call the
//! loader makes ([`crate::Cache::get_or_set_bytes_in`]); the core finds the scope by it.
//! The binding carries a number, the rule stays here.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll};

/// The entries whose loaders a call runs inside, innermost first. Cheap to clone; the
/// default is the scope of a call made outside any loader.
#[derive(Clone, Default)]
pub(crate) struct LoadScope(Option<Arc<Frame>>);

struct Frame {
    entry_key: String,
    outer: LoadScope,
}

impl std::fmt::Debug for LoadScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries()).finish()
    }
}

thread_local! {
    /// The scope of the loader being polled on this thread, if any.
    static CURRENT: RefCell<LoadScope> = RefCell::default();
}

/// The scopes of the loads running now, by load id. Touched once per load and once per
/// call that names a load: the miss path only.
static RUNNING: LazyLock<Mutex<HashMap<u64, LoadScope>>> = LazyLock::new(Mutex::default);

fn running() -> std::sync::MutexGuard<'static, HashMap<u64, LoadScope>> {
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LoadScope {
    /// The scope of the Rust loader being polled on this thread (the outermost scope when
    /// none is).
    pub(crate) fn current() -> LoadScope {
        CURRENT.with_borrow(LoadScope::clone)
    }

    /// The scope a call is made from: the loader of load `id` when a host named it and
    /// that load still runs (a call the loader left running after it ended belongs to no
    /// load), else [`LoadScope::current`].
    pub(crate) fn of(id: Option<u64>) -> LoadScope {
        id.and_then(|id| running().get(&id).cloned())
            .unwrap_or_else(LoadScope::current)
    }

    /// Whether a loader of `entry_key` is one this scope runs inside.
    pub(crate) fn contains(&self, entry_key: &str) -> bool {
        self.entries().any(|k| k == entry_key)
    }

    /// The scope of the loader of `entry_key` started from this scope.
    pub(crate) fn enter(&self, entry_key: &str) -> LoadScope {
        LoadScope(Some(Arc::new(Frame {
            entry_key: entry_key.to_string(),
            outer: self.clone(),
        })))
    }

    fn entries(&self) -> impl Iterator<Item = &str> {
        std::iter::successors(self.0.as_deref(), |f| f.outer.0.as_deref())
            .map(|f| f.entry_key.as_str())
    }
}

/// A loader's future, run with its scope as [`LoadScope::current`] during each poll, and
/// known by its load id (see [`LoadScope::of`]) until it ends or is dropped.
pub(crate) struct Scoped<F> {
    scope: LoadScope,
    id: u64,
    fut: Pin<Box<F>>,
}

impl<F> Scoped<F> {
    /// Start load `id` in `scope`: `start` makes the loader's future. The load is known by
    /// its id, and its scope current, before `start` runs: a host may run its function
    /// inline, and that function may call back at once.
    pub(crate) fn start(scope: LoadScope, id: u64, start: impl FnOnce() -> F) -> Self {
        running().insert(id, scope.clone());
        let fut = {
            let _current = Current::enter(&scope);
            Box::pin(start())
        };
        Scoped { scope, id, fut }
    }
}

/// Makes a scope [`LoadScope::current`] until dropped (even by a panic), then puts the
/// outer one back.
struct Current(Option<LoadScope>);

impl Current {
    fn enter(scope: &LoadScope) -> Current {
        Current(Some(
            CURRENT.with_borrow_mut(|c| std::mem::replace(c, scope.clone())),
        ))
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        if let Some(outer) = self.0.take() {
            CURRENT.with_borrow_mut(|c| *c = outer);
        }
    }
}

impl<F> Drop for Scoped<F> {
    fn drop(&mut self) {
        running().remove(&self.id);
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let _current = Current::enter(&this.scope);
        this.fut.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_lists_its_loads_innermost_first() {
        let root = LoadScope::default();
        let a = root.enter("a");
        let ab = a.enter("b");
        assert!(!root.contains("a"));
        assert!(a.contains("a") && !a.contains("b"));
        assert!(ab.contains("a") && ab.contains("b"));
        assert_eq!(format!("{ab:?}"), r#"["b", "a"]"#);
    }

    #[test]
    fn scoped_sets_the_current_scope_only_while_polled() {
        let inner = Scoped::start(LoadScope::default().enter("x"), u64::MAX, || async {
            LoadScope::current().contains("x") && LoadScope::of(Some(u64::MAX)).contains("x")
        });
        assert!(futures_util::FutureExt::now_or_never(inner).unwrap());
        assert!(!LoadScope::current().contains("x"));
        assert!(
            !LoadScope::of(Some(u64::MAX)).contains("x"),
            "unknown once it ended"
        );
    }
}
