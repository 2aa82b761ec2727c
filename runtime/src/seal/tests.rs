use super::*;
use layout::custom_section;

const COMPONENT_HEADER: &[u8] = b"\0asm\x0d\0\x01\0";

/// A real (empty) component followed by the custom sections a build tool
/// leaves at the end: a copy can stop after any of them and still validate.
fn foreign_component() -> Vec<u8> {
    let mut bytes = wat::parse_str("(component (core module (func (export \"f\"))))").unwrap();
    bytes.extend(custom_section("build-notes", b"hello"));
    bytes.extend(custom_section("tool-info", &[7u8; 300]));
    bytes.extend(custom_section("component-type:strategy", &[1u8; 40]));
    bytes
}

fn validates(bytes: &[u8]) -> bool {
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::default())
        .validate_all(bytes)
        .is_ok()
}

#[test]
fn a_foreign_component_passes_untouched() {
    let bytes = foreign_component();
    assert!(validates(&bytes));
    assert_eq!(check(&bytes), Ok(SealState::Foreign));
    // Its prefixes are not Sandbar builds either: the loader's own checks
    // (or the validator) judge them, as before.
    assert_eq!(check(&bytes[..bytes.len() - 3]), Ok(SealState::Foreign));
    assert_eq!(check(b""), Ok(SealState::Foreign));
    assert_eq!(check(b"not wasm at all"), Ok(SealState::Foreign));
}

#[test]
fn a_sealed_component_is_accepted_and_still_valid() {
    let sealed = seal(&foreign_component()).unwrap().into_owned();
    assert!(
        validates(&sealed),
        "the marker and seal are plain custom sections"
    );
    let state = check(&sealed).unwrap();
    assert_eq!(
        state,
        SealState::Sealed {
            sealed_len: sealed.len() - (2 + 1 + SEAL_SECTION.len() + SEAL_PAYLOAD_LEN)
        }
    );
    let layout = layout(&sealed).unwrap();
    assert_eq!(
        layout.sections.first().unwrap().name.as_deref(),
        Some(BUILD_MARKER)
    );
    assert_eq!(
        layout.sections.last().unwrap().name.as_deref(),
        Some(SEAL_SECTION)
    );
    // Sealing is idempotent and deterministic.
    assert!(matches!(seal(&sealed).unwrap(), Cow::Borrowed(_)));
    assert_eq!(seal(&foreign_component()).unwrap(), sealed);
}

#[test]
fn every_prefix_of_a_sealed_build_is_refused_as_partial() {
    let sealed = seal(&foreign_component()).unwrap().into_owned();
    let boundaries = layout(&sealed).unwrap().boundaries();
    // The boundaries a stalled copy stops at: each of these prefixes is a
    // valid component, which is exactly why the seal exists.
    let before_seal = &boundaries[..boundaries.len() - 1];
    assert!(before_seal.len() >= 5, "{boundaries:?}");
    for &end in before_seal {
        assert!(validates(&sealed[..end]), "prefix {end} validates");
        assert_eq!(
            check(&sealed[..end]),
            Err(SealError::Partial {
                ends_at: end,
                inside_section: false
            }),
            "prefix of {end} bytes"
        );
    }
    // And every other cut, inside a section (the marker's own bytes too).
    for end in HEADER_LEN + 1..sealed.len() {
        if before_seal.contains(&end) {
            continue;
        }
        assert_eq!(
            check(&sealed[..end]),
            Err(SealError::Partial {
                ends_at: end,
                inside_section: true
            }),
            "prefix of {end} bytes"
        );
    }
}

#[test]
fn the_partial_copy_message_says_where_it_stopped() {
    let sealed = seal(&foreign_component()).unwrap().into_owned();
    let end = layout(&sealed).unwrap().boundaries()[1];
    let error = check(&sealed[..end]).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("the file is a partial copy of a Sandbar build (ends at byte {end}, seal missing)")
    );
    assert!(error.hint().contains("wait for the copy to finish"));
    assert!(error.hint().contains("runtime build"));
}

#[test]
fn a_tampered_seal_is_refused() {
    let sealed = seal(&foreign_component()).unwrap().into_owned();
    let seal_at = layout(&sealed).unwrap().sections.last().unwrap().start;

    // A byte of the sealed content changed.
    let mut edited = sealed.clone();
    let tool_info = layout(&sealed)
        .unwrap()
        .sections
        .into_iter()
        .find(|s| s.name.as_deref() == Some("tool-info"))
        .unwrap();
    edited[tool_info.end - 1] ^= 0xff;
    assert!(matches!(check(&edited), Err(SealError::Mismatch { .. })));
    assert!(
        matches!(seal(&edited), Err(SealError::Mismatch { .. })),
        "never re-blessed"
    );

    // The digest itself changed.
    let mut digest = sealed.clone();
    let last = digest.len() - 1;
    digest[last] ^= 1;
    assert!(matches!(check(&digest), Err(SealError::Mismatch { .. })));

    // The length changed.
    let mut length = sealed.clone();
    let len_at = seal_at + 3 + SEAL_SECTION.len() + 1;
    length[len_at] ^= 1;
    assert_eq!(
        check(&length),
        Err(SealError::Misplaced {
            seal_at,
            sealed_len: seal_at ^ 1
        })
    );

    // An unknown scheme version.
    let mut version = sealed.clone();
    version[len_at - 1] = 9;
    assert!(matches!(
        check(&version),
        Err(SealError::Unreadable { version: 9, .. })
    ));

    // A seal without the leading marker still has to match.
    let mut unmarked = sealed[..HEADER_LEN].to_vec();
    unmarked.extend_from_slice(&sealed[HEADER_LEN + marker_section().len()..]);
    assert!(matches!(check(&unmarked), Err(SealError::Misplaced { .. })));
}

#[test]
fn sections_after_the_seal_are_refused_until_resealed() {
    let sealed = seal(&foreign_component()).unwrap().into_owned();
    let mut appended = sealed.clone();
    appended.extend(custom_section("later", b"v2"));
    let error = check(&appended).unwrap_err();
    assert_eq!(
        error,
        SealError::AfterSeal {
            seal_at: sealed.len() - (2 + 1 + SEAL_SECTION.len() + SEAL_PAYLOAD_LEN),
            trailing: appended.len() - sealed.len()
        }
    );
    assert!(error.hint().contains("runtime seal"));
    let resealed = seal(&appended).unwrap().into_owned();
    assert_eq!(check(&resealed).map(|_| ()), Ok(()));
    assert_ne!(resealed, sealed, "a new hash: the appended section is kept");
    let sections = layout(&resealed).unwrap().sections;
    let names: Vec<_> = sections.iter().filter_map(|s| s.name.as_deref()).collect();
    assert_eq!(names.iter().filter(|n| **n == SEAL_SECTION).count(), 1);
    assert_eq!(names.iter().filter(|n| **n == BUILD_MARKER).count(), 1);
    assert!(validates(&resealed));
}

#[test]
fn sealing_refuses_what_is_not_a_whole_file() {
    let sealed = seal(&foreign_component()).unwrap().into_owned();
    let end = layout(&sealed).unwrap().boundaries()[2];
    assert_eq!(
        seal(&sealed[..end]),
        Err(SealError::Partial {
            ends_at: end,
            inside_section: false
        }),
        "a partial build is not blessed"
    );
    assert!(matches!(
        seal(&foreign_component()[..20]),
        Err(SealError::Truncated { .. })
    ));
    assert_eq!(seal(b"#!/bin/sh"), Err(SealError::NotWasm));
    // A bare header (an empty component) can be sealed.
    assert!(seal(COMPONENT_HEADER).is_ok());
}
