//! Device memory as host memory. A device address is the host address of
//! the allocation's first byte, so host-built kernels dereference it as it
//! is. Every allocation sits between two red zones of a known pattern,
//! checked after every operation: a kernel, copy or GEMM that writes past
//! either end of a buffer is caught at the operation that did it. Fresh
//! memory is filled with 0xFF bytes (NaN as f32), so a read of memory
//! that nothing wrote shows up in the results, as on a GPU.

use std::alloc::Layout;
use std::collections::BTreeMap;

/// Bytes of red zone on each side; real allocations are 256-byte aligned,
/// so is every emulated one.
const RED_ZONE: usize = 256;
const RED: u8 = 0xA5;
const FRESH: u8 = 0xFF;

struct Allocation {
    raw: *mut u8,
    layout: Layout,
    size: usize,
    /// A stream-ordered free is queued: a second free is an error.
    free_queued: bool,
}

// SAFETY: the raw pointer is owned by the map and only touched under the
// emulator's lock.
unsafe impl Send for Allocation {}

impl Allocation {
    fn red_zones_intact(&self) -> bool {
        // SAFETY: both zones lie inside the allocation made in `alloc`.
        let (low, high) = unsafe {
            (
                std::slice::from_raw_parts(self.raw, RED_ZONE),
                std::slice::from_raw_parts(self.raw.add(RED_ZONE + self.size), RED_ZONE),
            )
        };
        low.iter().chain(high).all(|&b| b == RED)
    }
}

/// The live allocations, by device address.
#[derive(Default)]
pub struct Memory {
    live: BTreeMap<u64, Allocation>,
}

impl Memory {
    /// A new allocation of `size` bytes, or `None` when the host is out of memory.
    pub fn alloc(&mut self, size: usize) -> Option<u64> {
        let total = size.checked_add(2 * RED_ZONE)?;
        let layout = Layout::from_size_align(total, RED_ZONE).ok()?;
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { std::alloc::alloc(layout) };
        if raw.is_null() {
            return None;
        }
        // SAFETY: `raw` holds `total` bytes.
        unsafe {
            std::ptr::write_bytes(raw, RED, RED_ZONE);
            std::ptr::write_bytes(raw.add(RED_ZONE), FRESH, size);
            std::ptr::write_bytes(raw.add(RED_ZONE + size), RED, RED_ZONE);
        }
        let address = raw as u64 + RED_ZONE as u64;
        self.live.insert(
            address,
            Allocation {
                raw,
                layout,
                size,
                free_queued: false,
            },
        );
        Some(address)
    }

    /// Marks `address` as queued for freeing; an error when it is not the
    /// start of a live allocation or is queued already.
    pub fn queue_free(&mut self, address: u64) -> Result<(), String> {
        match self.live.get_mut(&address) {
            Some(a) if a.free_queued => Err(format!("{address:#x} is freed twice")),
            Some(a) => {
                a.free_queued = true;
                Ok(())
            }
            None => Err(format!(
                "{address:#x} is not the start of a live allocation"
            )),
        }
    }

    /// Frees a live allocation, after checking its red zones.
    pub fn free(&mut self, address: u64) -> Result<(), String> {
        let a = self
            .live
            .remove(&address)
            .ok_or_else(|| format!("{address:#x} is not the start of a live allocation"))?;
        let intact = a.red_zones_intact();
        // SAFETY: allocated in `alloc` with this layout.
        unsafe { std::alloc::dealloc(a.raw, a.layout) };
        if intact {
            Ok(())
        } else {
            Err(format!(
                "the red zone around the {} bytes at {address:#x} was overwritten (found at free)",
                a.size
            ))
        }
    }

    /// Whether `[address, address + len)` lies inside one live allocation,
    /// as `(base, size)` of that allocation.
    pub fn holding(&self, address: u64, len: usize) -> Option<(u64, usize)> {
        let (&base, a) = self.live.range(..=address).next_back()?;
        let end = address.checked_add(len as u64)?;
        (end <= base + a.size as u64).then_some((base, a.size))
    }

    /// Checks that `[address, address + len)` is inside one live allocation.
    pub fn check_range(&self, what: &str, address: u64, len: usize) -> Result<(), String> {
        if self.holding(address, len).is_some() {
            return Ok(());
        }
        let near = match self.live.range(..=address).next_back() {
            Some((&base, a)) => format!(
                "; the nearest allocation below is {} bytes at {base:#x}, {} bytes before",
                a.size,
                address - base
            ),
            None => String::new(),
        };
        Err(format!(
            "{what}: {len} bytes at {address:#x} are not inside one live allocation{near}"
        ))
    }

    /// The first allocation whose red zones were overwritten, described.
    pub fn check_red_zones(&self) -> Result<(), String> {
        for (&base, a) in &self.live {
            if !a.red_zones_intact() {
                return Err(format!(
                    "the red zone around the {} bytes at {base:#x} was overwritten",
                    a.size
                ));
            }
        }
        Ok(())
    }

    /// `(count, bytes)` of the live allocations.
    pub fn totals(&self) -> (usize, usize) {
        (self.live.len(), self.live.values().map(|a| a.size).sum())
    }

    /// Frees everything (the context that owned it is gone).
    pub fn clear(&mut self) {
        for (_, a) in std::mem::take(&mut self.live) {
            // SAFETY: allocated in `alloc` with this layout.
            unsafe { std::alloc::dealloc(a.raw, a.layout) };
        }
    }
}
