//! The snapshot envelope: a short header naming the strategy, then the state
//! in postcard (compact, no std I/O needed).

const MAGIC: &[u8; 4] = b"SBS1";

pub(crate) fn encode<T: serde::Serialize>(strategy: &str, state: &T) -> Result<Vec<u8>, String> {
    let name = strategy.as_bytes();
    let name_len =
        u8::try_from(name.len()).map_err(|_| "strategy name over 255 bytes".to_owned())?;
    let mut out = Vec::with_capacity(MAGIC.len() + 1 + name.len() + 64);
    out.extend_from_slice(MAGIC);
    out.push(name_len);
    out.extend_from_slice(name);
    postcard::to_extend(state, out).map_err(|e| format!("cannot encode state: {e}"))
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    strategy: &str,
    bytes: &[u8],
) -> Result<T, String> {
    let body = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or("not a Sandbar snapshot (bad magic); it cannot be restored")?;
    let (&name_len, body) = body
        .split_first()
        .ok_or("snapshot truncated after its magic")?;
    let name_len = usize::from(name_len);
    if body.len() < name_len {
        return Err("snapshot truncated inside its strategy name".into());
    }
    let (name, state) = body.split_at(name_len);
    if name != strategy.as_bytes() {
        return Err(format!(
            "snapshot was made by strategy `{}`, not `{strategy}`",
            String::from_utf8_lossy(name)
        ));
    }
    postcard::from_bytes(state).map_err(|e| {
        format!("snapshot does not match this version's state layout ({e}); warm up from history instead")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let bytes = encode("s", &(1u32, vec![2.5f64])).unwrap();
        assert_eq!(
            decode::<(u32, Vec<f64>)>("s", &bytes).unwrap(),
            (1, vec![2.5])
        );
    }

    #[test]
    fn refuses_another_strategys_snapshot() {
        let bytes = encode("a", &1u32).unwrap();
        assert_eq!(
            decode::<u32>("b", &bytes).unwrap_err(),
            "snapshot was made by strategy `a`, not `b`"
        );
    }

    #[test]
    fn refuses_garbage_and_truncation() {
        assert!(
            decode::<u32>("s", b"nope")
                .unwrap_err()
                .contains("bad magic")
        );
        let bytes = encode("s", &(1u64, 2u64)).unwrap();
        assert!(
            decode::<(u64, u64)>("s", &bytes[..bytes.len() - 1])
                .unwrap_err()
                .contains("state layout")
        );
    }
}
