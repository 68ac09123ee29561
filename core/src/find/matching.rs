//! The acceptor's side of C-FIND: matching one record against a query (PS3.4 C.2.2.2) and writing the response
//! identifier.

use crate::dimse::dataset::{self, DataSet, Element, Vr};

use super::{QUERY_RETRIEVE_LEVEL, SPECIFIC_CHARACTER_SET};

/// Matches one `record` against `query` (PS3.4 C.2.2.2): universal matching (empty value),
/// single value matching, wildcards `*` and `?` in strings, a list of UIDs separated by `\`,
/// and date/time ranges `a-b`. Sequence keys are answered with the record's sequence as is.
/// QueryRetrieveLevel and SpecificCharacterSet are copied from the query.
///
/// On a match writes the response identifier (the query's keys, in its order, with the
/// record's values) in the query's encoding into `out` and returns its length; `Ok(None)` if
/// the record does not match. `BufferTooSmall` leaves `out` untouched.
pub fn answer(
    query: &DataSet<'_>,
    record: &DataSet<'_>,
    out: &mut [u8],
) -> Result<Option<usize>, dataset::Error> {
    let mut w = Out { buf: None, len: 0 };
    if !write_answer(query, record, &mut w)? {
        return Ok(None);
    }
    let required = w.len;
    let dst = out
        .get_mut(..required)
        .ok_or(dataset::Error::BufferTooSmall { required })?;
    let mut w = Out {
        buf: Some(dst),
        len: 0,
    };
    write_answer(query, record, &mut w)?;
    Ok(Some(required))
}

/// Measures (no buffer) or writes elements.
struct Out<'b> {
    buf: Option<&'b mut [u8]>,
    len: usize,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(dst) = self
            .buf
            .as_deref_mut()
            .and_then(|b| b.get_mut(self.len..self.len + bytes.len()))
        {
            dst.copy_from_slice(bytes);
        }
        self.len += bytes.len();
    }

    fn element(
        &mut self,
        tag: u32,
        vr: Vr,
        value: &[u8],
        explicit: bool,
    ) -> Result<(), dataset::Error> {
        let len = u32::try_from(value.len()).map_err(|_| dataset::Error::BadKey)?;
        self.put(&((tag >> 16) as u16).to_le_bytes());
        self.put(&((tag & 0xffff) as u16).to_le_bytes());
        if explicit {
            self.put(&vr.0);
            if vr.has_long_length() {
                self.put(&[0, 0]);
                self.put(&len.to_le_bytes());
            } else {
                let short = u16::try_from(len).map_err(|_| dataset::Error::BadKey)?;
                self.put(&short.to_le_bytes());
            }
        } else {
            self.put(&len.to_le_bytes());
        }
        self.put(value);
        Ok(())
    }
}

fn write_answer(
    query: &DataSet<'_>,
    record: &DataSet<'_>,
    w: &mut Out<'_>,
) -> Result<bool, dataset::Error> {
    let explicit = query.is_explicit();
    for q in query.elements() {
        let q = q?;
        if q.tag & 0xffff == 0 {
            continue;
        }
        let found = record.get(q.tag)?;
        let vr =
            q.vr.or(found.and_then(|r| r.vr))
                .or(dataset::vr_of(q.tag))
                .unwrap_or(Vr::UN);
        if q.tag == QUERY_RETRIEVE_LEVEL || q.tag == SPECIFIC_CHARACTER_SET {
            w.element(q.tag, vr, q.value, explicit)?;
            continue;
        }
        let value = match found {
            Some(r) => r.value,
            None if q.value.is_empty() || vr == Vr::SQ => &[][..],
            None => return Ok(false),
        };
        if vr != Vr::SQ && !q.value.is_empty() && !matches_value(&q, value, vr) {
            return Ok(false);
        }
        w.element(q.tag, vr, value, explicit)?;
    }
    Ok(true)
}

fn matches_value(q: &Element<'_>, value: &[u8], vr: Vr) -> bool {
    let want = q.trimmed();
    let have = dataset::trim(value);
    if vr == Vr::UI {
        return want
            .split(|b| *b == b'\\')
            .any(|u| dataset::trim(u) == have);
    }
    if !vr.is_text() {
        return q.value == value;
    }
    if matches!(&vr.0, b"DA" | b"TM" | b"DT") && want.contains(&b'-') {
        let mut parts = want.splitn(2, |b| *b == b'-');
        let lo = parts.next().unwrap_or(&[]);
        let hi = parts.next().unwrap_or(&[]);
        return (lo.is_empty() || have >= lo) && (hi.is_empty() || have <= hi);
    }
    // Leading spaces are not significant in most string VRs either.
    let have = trim_leading(have);
    let want = trim_leading(want);
    if want.contains(&b'*') || want.contains(&b'?') {
        wildcard(want, have)
    } else {
        want == have
    }
}

fn trim_leading(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| *b != b' ').unwrap_or(v.len());
    v.get(start..).unwrap_or(&[])
}

/// `*` any run, `?` one character; iterative with one backtrack point (no recursion).
pub(super) fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).unwrap_or(&[]).iter().all(|c| *c == b'*')
}
