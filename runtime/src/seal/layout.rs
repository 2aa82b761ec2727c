//! The top-level section layout of a WebAssembly binary: where each section
//! starts and ends, and the name of each custom section. Nothing is
//! validated beyond the framing; a file that stops inside a section says so.

/// Bytes of the preamble (magic + version/layer) before the first section.
pub const HEADER_LEN: usize = 8;
const WASM_MAGIC: &[u8; 4] = b"\0asm";
/// Section id of a custom section, in core modules and components alike.
pub const CUSTOM_SECTION_ID: u8 = 0;

/// One top-level section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The section id (0 = custom).
    pub id: u8,
    /// A custom section's name; `None` for other sections or an unreadable name.
    pub name: Option<String>,
    /// Offset of the id byte.
    pub start: usize,
    /// Offset one past the section's last byte.
    pub end: usize,
}

/// The sections of a file, in order, and whether it ends inside one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The whole sections, in file order (an unfinished last one is not
    /// listed; see `truncated_at`).
    pub sections: Vec<Section>,
    /// The file stops before the end of a section (or of its header): the
    /// offset at which that unfinished section starts.
    pub truncated_at: Option<usize>,
}

impl Layout {
    /// Where each whole section ends: the section boundaries a copy can stop at.
    pub fn boundaries(&self) -> Vec<usize> {
        self.sections.iter().map(|s| s.end).collect()
    }
}

/// The section layout of `bytes`, or `None` when it is not a WebAssembly
/// binary (no magic, or shorter than the preamble).
pub fn layout(bytes: &[u8]) -> Option<Layout> {
    if bytes.len() < HEADER_LEN || &bytes[..4] != WASM_MAGIC {
        return None;
    }
    let mut sections = Vec::new();
    let mut pos = HEADER_LEN;
    while pos < bytes.len() {
        let start = pos;
        let id = bytes[pos];
        let Some((size, after_size)) = read_u32(bytes, pos + 1) else {
            return Some(Layout {
                sections,
                truncated_at: Some(start),
            });
        };
        let end = after_size.saturating_add(size as usize);
        if end > bytes.len() {
            return Some(Layout {
                sections,
                truncated_at: Some(start),
            });
        }
        let name = (id == CUSTOM_SECTION_ID)
            .then(|| custom_name(&bytes[after_size..end]))
            .flatten();
        sections.push(Section {
            id,
            name,
            start,
            end,
        });
        pos = end;
    }
    Some(Layout {
        sections,
        truncated_at: None,
    })
}

/// The payload of a custom section after its name.
pub fn custom_payload<'a>(bytes: &'a [u8], section: &Section) -> Option<&'a [u8]> {
    let (_, after_size) = read_u32(bytes, section.start + 1)?;
    let body = bytes.get(after_size..section.end)?;
    let (name_len, after_len) = read_u32(body, 0)?;
    body.get(after_len + name_len as usize..)
}

/// A custom section: id, size, name, payload.
pub fn custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(5 + name.len() + payload.len());
    write_u32(&mut body, name.len() as u32);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    let mut out = Vec::with_capacity(6 + body.len());
    out.push(CUSTOM_SECTION_ID);
    write_u32(&mut out, body.len() as u32);
    out.extend_from_slice(&body);
    out
}

fn custom_name(body: &[u8]) -> Option<String> {
    let (len, after) = read_u32(body, 0)?;
    let name = body.get(after..after.checked_add(len as usize)?)?;
    std::str::from_utf8(name).ok().map(str::to_owned)
}

/// Unsigned LEB128 (at most 5 bytes) at `pos`: the value and the offset after it.
fn read_u32(bytes: &[u8], pos: usize) -> Option<(u32, usize)> {
    let mut value: u64 = 0;
    for i in 0..5 {
        let byte = *bytes.get(pos + i)?;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return u32::try_from(value).ok().map(|v| (v, pos + i + 1));
        }
    }
    None
}

fn write_u32(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &[u8] = b"\0asm\x0d\0\x01\0";

    #[test]
    fn leb128_round_trips_at_every_width() {
        for value in [0, 1, 127, 128, 16_383, 16_384, 2_097_152, u32::MAX] {
            let mut out = Vec::new();
            write_u32(&mut out, value);
            assert_eq!(read_u32(&out, 0), Some((value, out.len())), "{value}");
        }
        assert_eq!(read_u32(&[0x80, 0x80], 0), None, "unfinished");
    }

    #[test]
    fn sections_are_framed_and_custom_names_read() {
        let mut bytes = HEADER.to_vec();
        bytes.extend(custom_section("first", b"abc"));
        let second_start = bytes.len();
        bytes.extend([7, 2, 0xaa, 0xbb]);
        let layout = layout(&bytes).unwrap();
        assert_eq!(layout.truncated_at, None);
        assert_eq!(layout.sections.len(), 2);
        assert_eq!(layout.sections[0].name.as_deref(), Some("first"));
        assert_eq!(
            custom_payload(&bytes, &layout.sections[0]),
            Some(&b"abc"[..])
        );
        assert_eq!(layout.sections[1].id, 7);
        assert_eq!(layout.sections[1].start, second_start);
        assert_eq!(layout.boundaries(), [second_start, bytes.len()]);
    }

    #[test]
    fn a_file_cut_inside_a_section_says_where_that_section_starts() {
        let mut bytes = HEADER.to_vec();
        bytes.extend(custom_section("first", b"abc"));
        let cut = bytes.len() - 1;
        let layout = layout(&bytes[..cut]).unwrap();
        assert!(layout.sections.is_empty());
        assert_eq!(layout.truncated_at, Some(HEADER.len()));
    }

    #[test]
    fn not_wasm_has_no_layout() {
        assert_eq!(layout(b""), None);
        assert_eq!(layout(b"\0asm"), None);
        assert_eq!(layout(b"#!/bin/sh\necho\n"), None);
        assert_eq!(layout(HEADER).unwrap().sections, []);
    }
}
