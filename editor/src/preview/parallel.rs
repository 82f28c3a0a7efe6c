//! Splitting a population across the machine's cores with
//! [`std::thread::scope`]: small populations stay on the calling thread.

use burgee_rules::Context;

/// Below this many users one thread is faster than starting more.
const PARALLEL_FROM: usize = 20_000;

/// Run `work` on consecutive chunks of `users` (one per core, at most 8),
/// passing each chunk's offset into `users`; results come back in order.
pub(crate) fn map_chunks<T: Send>(users: &[Context], work: impl Fn(usize, &[Context]) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if threads < 2 || users.len() < PARALLEL_FROM {
        return vec![work(0, users)];
    }
    let chunk = users.len().div_ceil(threads);
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            users.chunks(chunk).enumerate().map(|(i, part)| scope.spawn(move || work(i * chunk, part))).collect();
        // A panic in a chunk is a bug (in the engine or here): let it surface.
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_user_once_in_order() {
        let users: Vec<Context> = (0..50_001).map(|i| Context::with_key(format!("u{i}"))).collect();
        let parts = map_chunks(&users, |offset, part| (offset, part.len()));
        let mut next = 0;
        for (offset, len) in parts {
            assert_eq!(offset, next);
            next += len;
        }
        assert_eq!(next, users.len());
        assert_eq!(map_chunks(&users[..10], |offset, part| (offset, part.len())), [(0, 10)]);
    }
}
