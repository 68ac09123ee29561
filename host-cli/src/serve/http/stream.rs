//! A response body made a piece at a time as hyper asks for it (the next piece only once the last one is written),
//! so that the big answers, `/metrics`, `/api/targets` and `/` over thousands of targets, are never held whole.

use core::convert::Infallible;
use core::pin::Pin;
use core::task::{Context, Poll};

use axum::body::{Body, Bytes};
use hyper::body::Frame;

/// The body whose pieces `next` makes, in order, until it returns `None` (an empty piece is skipped).
pub(super) fn body(next: impl FnMut() -> Option<String> + Send + Unpin + 'static) -> Body {
    Body::new(Pieces(next))
}

struct Pieces<F>(F);

impl<F: FnMut() -> Option<String> + Unpin> hyper::body::Body for Pieces<F> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = &mut self.get_mut().0;
        loop {
            match next() {
                Some(piece) if piece.is_empty() => continue,
                Some(piece) => return Poll::Ready(Some(Ok(Frame::data(Bytes::from(piece))))),
                None => return Poll::Ready(None),
            }
        }
    }
}
