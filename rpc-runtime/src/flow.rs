//! Flows: ordered chains of hook nodes (TSRPC's `Flow<T>`).
//!
//! A node gets the data, may change it, and returns `Some(data)` to go on or `None` to stop the
//! chain ("pre" flows then cancel what they guard). Nodes may be sync ([`Flow::push`]) or async
//! ([`Flow::push_async`]); they run with no lock of this crate held, so a node may call back into
//! the client or server (for example `connect()` from a post-disconnect node).

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use futures_util::FutureExt;

type SyncNode<T> = dyn Fn(T) -> Option<T> + Send + Sync;
type AsyncNode<T> = dyn Fn(T) -> Pin<Box<dyn Future<Output = Option<T>> + Send>> + Send + Sync;

enum Node<T> {
    Sync(Arc<SyncNode<T>>),
    Async(Arc<AsyncNode<T>>),
}

impl<T> Clone for Node<T> {
    fn clone(&self) -> Self {
        match self {
            Node::Sync(f) => Node::Sync(f.clone()),
            Node::Async(f) => Node::Async(f.clone()),
        }
    }
}

/// Identifies a node in a [`Flow`], to remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowNodeId(u64);

/// An ordered list of nodes run one after the other on a value.
///
/// ```
/// # tokio_test_block(async {
/// use rpc_runtime::flows::Flow;
/// let flow: Flow<i32> = Flow::new();
/// let id = flow.push(|x| Some(x + 1));
/// flow.push_async(|x| async move { if x > 10 { None } else { Some(x * 2) } });
/// assert_eq!(flow.exec(1).await, Some(4));
/// assert_eq!(flow.exec(20).await, None);
/// flow.remove(id);
/// assert_eq!(flow.exec(1).await, Some(2));
/// # });
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub struct Flow<T> {
    nodes: RwLock<Vec<(FlowNodeId, Node<T>)>>,
    /// The number of nodes, kept beside the list so the hot paths' "any node?" check is one
    /// atomic load, not a lock (it is updated under the write lock).
    count: AtomicUsize,
    next_id: AtomicU64,
}

impl<T> Default for Flow<T> {
    fn default() -> Self {
        Flow {
            nodes: RwLock::new(Vec::new()),
            count: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
        }
    }
}

impl<T> Flow<T> {
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// True when there is no node (running it returns the input unchanged).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> fmt::Debug for Flow<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow").field("nodes", &self.len()).finish()
    }
}

impl<T: Send + 'static> Flow<T> {
    /// An empty flow.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a sync node.
    pub fn push(&self, node: impl Fn(T) -> Option<T> + Send + Sync + 'static) -> FlowNodeId {
        self.add(Node::Sync(Arc::new(node)))
    }

    /// Appends an async node.
    pub fn push_async<F, Fut>(&self, node: F) -> FlowNodeId
    where
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<T>> + Send + 'static,
    {
        self.add(Node::Async(Arc::new(move |t| Box::pin(node(t)))))
    }

    fn add(&self, node: Node<T>) -> FlowNodeId {
        let id = FlowNodeId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let mut nodes = self.nodes.write().unwrap_or_else(|e| e.into_inner());
        nodes.push((id, node));
        self.count.store(nodes.len(), Ordering::Release);
        id
    }

    /// Removes a node; false when it was not there.
    pub fn remove(&self, id: FlowNodeId) -> bool {
        let mut nodes = self.nodes.write().unwrap_or_else(|e| e.into_inner());
        let before = nodes.len();
        nodes.retain(|(i, _)| *i != id);
        self.count.store(nodes.len(), Ordering::Release);
        nodes.len() != before
    }

    /// Removes every node.
    pub fn clear(&self) {
        let mut nodes = self.nodes.write().unwrap_or_else(|e| e.into_inner());
        nodes.clear();
        self.count.store(0, Ordering::Release);
    }

    /// Runs the nodes in order. `None` when a node stopped the chain (a panicking node stops it
    /// too, and is logged).
    pub async fn exec(&self, data: T) -> Option<T> {
        let nodes: Vec<Node<T>> = {
            let guard = self.nodes.read().unwrap_or_else(|e| e.into_inner());
            if guard.is_empty() {
                return Some(data);
            }
            guard.iter().map(|(_, n)| n.clone()).collect()
        };
        let mut data = data;
        for node in nodes {
            let out = match node {
                Node::Sync(f) => std::panic::catch_unwind(AssertUnwindSafe(|| f(data))),
                Node::Async(f) => {
                    AssertUnwindSafe(async move { f(data).await })
                        .catch_unwind()
                        .await
                }
            };
            match out {
                Ok(Some(next)) => data = next,
                Ok(None) => return None,
                Err(_) => {
                    tracing::error!("a flow node panicked; the chain was stopped");
                    return None;
                }
            }
        }
        Some(data)
    }
}
