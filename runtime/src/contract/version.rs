//! Which contract version a component speaks, and the one interface the
//! host calls it through: [`StrategyBindingsPre`] and [`StrategyBindings`]
//! dispatch each call to that version's bindings, converting at the edge.

use super::{Bar, Fill, HostState, Order, Param, Position, StrategyInfo, v1, v2};
use sandbar_guest::paper;
use wasmtime::component::{Instance, InstancePre};
use wasmtime::{AsContextMut, Engine};

/// A contract version this runtime links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractVersion {
    /// `sandbar:strategy@0.1.0`: `market` and one-bar `limit` orders.
    V0_1,
    /// `sandbar:strategy@0.2.0`: orders with ids, every kind, updates.
    V0_2,
}

impl ContractVersion {
    /// The version as import names spell it (`0.1.0`).
    pub fn as_str(self) -> &'static str {
        match self {
            ContractVersion::V0_1 => v1::VERSION,
            ContractVersion::V0_2 => v2::VERSION,
        }
    }

    /// The version whose interfaces `imports` name, from the names alone;
    /// `None` when they name none of the contract's (a component that
    /// imports nothing: the exports decide, see [`StrategyBindingsPre::new`]).
    pub fn from_imports(imports: &[String]) -> Option<Self> {
        let named = |version: &str| {
            imports.iter().any(|name| {
                name.ends_with(&format!("@{version}")) && name.starts_with(super::PACKAGE)
            })
        };
        if named(v2::VERSION) {
            Some(ContractVersion::V0_2)
        } else if named(v1::VERSION) {
            Some(ContractVersion::V0_1)
        } else {
            None
        }
    }
}

impl std::fmt::Display for ContractVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", super::PACKAGE, self.as_str())
    }
}

/// One request of an `on-bar` result, in the host's types: a one-bar order
/// without an id (all of 0.1.0's, and 0.2.0's `request.order`), or a broker
/// request with an id (0.2.0's `place`, `cancel`, `replace`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Request {
    /// Contract 0.1.0's order: market or limit, for the next bar only.
    Order(Order),
    /// An order with an id, or a cancel or replace of one.
    Broker(paper::Request),
}

impl Request {
    /// The one-bar order, if this is one.
    pub fn order(&self) -> Option<Order> {
        match self {
            Request::Order(order) => Some(*order),
            Request::Broker(_) => None,
        }
    }
}

/// A type-checked component, ready to instantiate, of one contract version.
pub enum StrategyBindingsPre<T: 'static> {
    /// Contract 0.1.0.
    V0_1(v1::StrategyPre<T>),
    /// Contract 0.2.0.
    V0_2(v2::StrategyPre<T>),
}

// By hand: a derive would ask for `T: Clone`, which the store data is not.
impl<T: 'static> Clone for StrategyBindingsPre<T> {
    fn clone(&self) -> Self {
        match self {
            Self::V0_1(pre) => Self::V0_1(pre.clone()),
            Self::V0_2(pre) => Self::V0_2(pre.clone()),
        }
    }
}

impl<T: 'static> StrategyBindingsPre<T> {
    /// The bindings of `version` over `pre`; the error says which export
    /// does not match that version's signatures.
    pub fn new(version: ContractVersion, pre: InstancePre<T>) -> wasmtime::Result<Self> {
        Ok(match version {
            ContractVersion::V0_1 => Self::V0_1(v1::StrategyPre::new(pre)?),
            ContractVersion::V0_2 => Self::V0_2(v2::StrategyPre::new(pre)?),
        })
    }

    /// The contract version the component implements.
    pub fn version(&self) -> ContractVersion {
        match self {
            Self::V0_1(_) => ContractVersion::V0_1,
            Self::V0_2(_) => ContractVersion::V0_2,
        }
    }

    /// Bytes one order of `on-bar`'s result takes on the host in this
    /// version: what the per-call transfer bound is scaled by, so that it
    /// admits as many orders in either version.
    pub fn order_bytes(&self) -> usize {
        match self {
            Self::V0_1(_) => std::mem::size_of::<v1::Order>(),
            Self::V0_2(_) => std::mem::size_of::<v2::Request>(),
        }
    }

    /// The engine it was compiled for.
    pub fn engine(&self) -> &Engine {
        match self {
            Self::V0_1(pre) => pre.engine(),
            Self::V0_2(pre) => pre.engine(),
        }
    }

    /// The pre-linked component.
    pub fn instance_pre(&self) -> &InstancePre<T> {
        match self {
            Self::V0_1(pre) => pre.instance_pre(),
            Self::V0_2(pre) => pre.instance_pre(),
        }
    }

    /// Instantiates it in `store` and looks its exports up.
    pub fn instantiate(
        &self,
        store: impl AsContextMut<Data = T>,
    ) -> wasmtime::Result<StrategyBindings> {
        Ok(match self {
            Self::V0_1(pre) => StrategyBindings::V0_1(pre.instantiate(store)?),
            Self::V0_2(pre) => StrategyBindings::V0_2(pre.instantiate(store)?),
        })
    }
}

/// An instantiated component's exports, of its contract version. Every
/// call takes and returns the host's types.
pub enum StrategyBindings {
    /// Contract 0.1.0.
    V0_1(v1::Strategy),
    /// Contract 0.2.0.
    V0_2(v2::Strategy),
}

impl StrategyBindings {
    /// Looks the exports of `instance` up, as `pre` (its version) says.
    pub fn new(
        pre: &StrategyBindingsPre<HostState>,
        store: impl AsContextMut<Data = HostState>,
        instance: &Instance,
    ) -> wasmtime::Result<Self> {
        Ok(match pre {
            StrategyBindingsPre::V0_1(_) => Self::V0_1(v1::Strategy::new(store, instance)?),
            StrategyBindingsPre::V0_2(_) => Self::V0_2(v2::Strategy::new(store, instance)?),
        })
    }

    /// The contract version of these exports.
    pub fn version(&self) -> ContractVersion {
        match self {
            Self::V0_1(_) => ContractVersion::V0_1,
            Self::V0_2(_) => ContractVersion::V0_2,
        }
    }

    /// `describe`.
    pub fn call_describe<S: AsContextMut>(&self, store: S) -> wasmtime::Result<StrategyInfo> {
        match self {
            Self::V0_1(b) => b.call_describe(store),
            Self::V0_2(b) => b.call_describe(store).map(Into::into),
        }
    }

    /// `init`: the outer `Err` a trap, the inner one the strategy's refusal.
    pub fn call_init<S: AsContextMut>(
        &self,
        store: S,
        symbols: &[String],
        params: &[Param],
    ) -> wasmtime::Result<Result<(), String>> {
        match self {
            Self::V0_1(b) => b.call_init(store, symbols, params),
            Self::V0_2(b) => b.call_init(store, symbols, &v2::params(params)),
        }
    }

    /// `on-bar`: the requests it returned, not yet validated. An empty
    /// result allocates nothing in either version.
    pub fn call_on_bar<S: AsContextMut>(
        &self,
        store: S,
        bar: Bar,
        position: Position,
    ) -> wasmtime::Result<Vec<Request>> {
        Ok(match self {
            Self::V0_1(b) => b
                .call_on_bar(store, bar, position)?
                .into_iter()
                .map(Request::Order)
                .collect(),
            Self::V0_2(b) => b
                .call_on_bar(store, bar.into(), position.into())?
                .into_iter()
                .map(Into::into)
                .collect(),
        })
    }

    /// `on-fill`.
    pub fn call_on_fill<S: AsContextMut>(&self, store: S, fill: Fill) -> wasmtime::Result<()> {
        match self {
            Self::V0_1(b) => b.call_on_fill(store, fill),
            Self::V0_2(b) => b.call_on_fill(store, fill.into()),
        }
    }

    /// `on-order-updates` (0.2.0 only; a 0.1.0 component has no ids to be
    /// told about, and this is a no-op for it).
    pub fn call_on_order_updates<S: AsContextMut>(
        &self,
        store: S,
        updates: &[paper::OrderUpdate],
    ) -> wasmtime::Result<()> {
        match self {
            Self::V0_1(_) => Ok(()),
            Self::V0_2(b) => {
                let updates: Vec<v2::OrderUpdate> = updates.iter().map(Into::into).collect();
                b.call_on_order_updates(store, &updates)
            }
        }
    }

    /// `snapshot`.
    pub fn call_snapshot<S: AsContextMut>(&self, store: S) -> wasmtime::Result<Vec<u8>> {
        match self {
            Self::V0_1(b) => b.call_snapshot(store),
            Self::V0_2(b) => b.call_snapshot(store),
        }
    }

    /// `restore`.
    pub fn call_restore<S: AsContextMut>(
        &self,
        store: S,
        state: &[u8],
    ) -> wasmtime::Result<Result<(), String>> {
        match self {
            Self::V0_1(b) => b.call_restore(store, state),
            Self::V0_2(b) => b.call_restore(store, state),
        }
    }
}
