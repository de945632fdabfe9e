//! Holding what a renderer writes out of order without holding it all: bytes appended in
//! order ([`Spool`]) and fixed-size records put in order by a key ([`Sorter`]), each kept in
//! memory up to a budget and beyond it written to temporary files, which are unlinked as
//! soon as they are made (nothing is left behind, even by a killed run).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// A temporary file that no directory lists: it goes away with its last handle.
fn anonymous_file() -> io::Result<File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("procsim-spill-{}-{n}", std::process::id()));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => {
                std::fs::remove_file(&path)?;
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot make a temporary file in {}: {e}", dir.display()),
                ));
            }
        }
    }
}

/// Bytes appended in order, kept in memory up to `budget` and in a temporary file past it.
#[derive(Debug)]
pub(crate) struct Spool {
    memory: Vec<u8>,
    file: Option<BufWriter<File>>,
    budget: usize,
}

impl Spool {
    /// An empty spool that holds up to `budget` bytes in memory.
    pub(crate) fn new(budget: usize) -> Spool {
        Spool {
            memory: Vec::new(),
            file: None,
            budget,
        }
    }

    /// Appends `bytes`.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(f) = &mut self.file {
            return f.write_all(bytes);
        }
        self.memory.extend_from_slice(bytes);
        if self.memory.len() > self.budget {
            let mut f = BufWriter::new(anonymous_file()?);
            f.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some(f);
        }
        Ok(())
    }

    /// Writes everything appended to `out`, in order.
    pub(crate) fn copy_to(self, out: &mut impl Write) -> io::Result<()> {
        match self.file {
            None => out.write_all(&self.memory),
            Some(f) => {
                let mut f = f.into_inner().map_err(|e| e.into_error())?;
                f.seek(SeekFrom::Start(0))?;
                io::copy(&mut BufReader::new(f), out).map(|_| ())
            }
        }
    }
}

/// Texts appended one after another and read back by their index, kept in memory up to
/// `budget` bytes and past it in a temporary file (read back with a positioned read). A
/// renderer that names each process in slices written long after (Perfetto's CPU tracks)
/// holds every name: a 30,000-deep chain of default names (`Process-1:1:…`, as long as the
/// depth) held 900 MB of them.
#[derive(Debug)]
pub(crate) struct Texts {
    memory: String,
    file: Option<BufWriter<File>>,
    /// Bytes written to the file.
    filed: u64,
    /// Where each text ends: in `memory` for the first `in_memory`, in the file after.
    ends: Vec<u64>,
    in_memory: usize,
    budget: usize,
    scratch: Vec<u8>,
}

impl Texts {
    /// None yet, up to `budget` bytes of them to be held in memory.
    pub(crate) fn new(budget: usize) -> Texts {
        Texts {
            memory: String::new(),
            file: None,
            filed: 0,
            ends: Vec::new(),
            in_memory: 0,
            budget,
            scratch: Vec::new(),
        }
    }

    /// Appends `text`, the next index's.
    pub(crate) fn push(&mut self, text: &str) -> io::Result<()> {
        if self.file.is_none() && self.memory.len() + text.len() <= self.budget {
            self.memory.push_str(text);
            self.ends.push(self.memory.len() as u64);
            self.in_memory += 1;
            return Ok(());
        }
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(BufWriter::new(anonymous_file()?)),
        };
        file.write_all(text.as_bytes())?;
        self.filed += text.len() as u64;
        self.ends.push(self.filed);
        Ok(())
    }

    /// The text of index `i` (below the number pushed).
    pub(crate) fn get(&mut self, i: usize) -> io::Result<&str> {
        use std::os::unix::fs::FileExt;
        let start = |k: usize| if k == 0 { 0 } else { self.ends[k - 1] };
        if i < self.in_memory {
            return Ok(&self.memory[start(i) as usize..self.ends[i] as usize]);
        }
        let from = if i == self.in_memory { 0 } else { start(i) };
        let len = (self.ends[i] - from) as usize;
        let file = self
            .file
            .as_mut()
            .expect("texts past the budget are in the file");
        file.flush()?;
        self.scratch.resize(len, 0);
        file.get_ref().read_exact_at(&mut self.scratch, from)?;
        std::str::from_utf8(&self.scratch)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

/// A record of fixed size with a sort key.
pub(crate) trait Record: Sized + Copy {
    /// Its size in bytes when written out.
    const SIZE: usize;
    /// Where it goes: records come out by increasing key.
    fn key(&self) -> u128;
    /// Writes it into `out` (`SIZE` bytes).
    fn encode(&self, out: &mut [u8]);
    /// Reads it back.
    fn decode(bytes: &[u8]) -> Self;
}

/// How many sorted runs of one size wait on disk before they are merged into one run of the
/// next size: each open run holds a file and a read buffer, and each record is rewritten once
/// a size (a log-16 number of times).
const FAN_IN: usize = 16;

/// Records put in key order: up to `budget` records sorted in memory, each fuller batch
/// sorted and written to a temporary file (a run), and the runs merged at the end.
#[derive(Debug)]
pub(crate) struct Sorter<R: Record> {
    memory: Vec<R>,
    /// Sorted runs on disk, with their size class (0: one batch; n + 1: `FAN_IN` runs of
    /// class n merged), classes never increasing along the list.
    runs: Vec<(u32, File)>,
    budget: usize,
}

impl<R: Record> Sorter<R> {
    /// An empty sorter that holds up to `budget` records in memory.
    pub(crate) fn new(budget: usize) -> Sorter<R> {
        Sorter {
            memory: Vec::new(),
            runs: Vec::new(),
            budget: budget.max(1),
        }
    }

    /// Adds a record.
    pub(crate) fn push(&mut self, r: R) -> io::Result<()> {
        self.memory.push(r);
        if self.memory.len() >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// Writes the records in memory out as a sorted run.
    fn spill(&mut self) -> io::Result<()> {
        self.memory.sort_by_key(R::key);
        let mut f = BufWriter::new(anonymous_file()?);
        let mut buf = vec![0u8; R::SIZE];
        for r in &self.memory {
            r.encode(&mut buf);
            f.write_all(&buf)?;
        }
        self.memory.clear();
        self.runs
            .push((0, f.into_inner().map_err(|e| e.into_error())?));
        while let Some(&(class, _)) = self.runs.last() {
            let same = self.runs.iter().rev().take_while(|r| r.0 == class).count();
            if same < FAN_IN {
                break;
            }
            let tail = self.runs.split_off(self.runs.len() - same);
            let mut f = BufWriter::new(anonymous_file()?);
            merge(
                tail.into_iter().map(|r| r.1).collect(),
                Vec::new(),
                &mut |r: R| {
                    r.encode(&mut buf);
                    f.write_all(&buf)
                },
            )?;
            self.runs
                .push((class + 1, f.into_inner().map_err(|e| e.into_error())?));
        }
        Ok(())
    }

    /// Hands every record to `each`, by increasing key (records of equal key in no set
    /// order: give them distinct keys).
    pub(crate) fn drain(mut self, each: &mut impl FnMut(R) -> io::Result<()>) -> io::Result<()> {
        self.memory.sort_by_key(R::key);
        merge(
            self.runs.into_iter().map(|r| r.1).collect(),
            self.memory,
            each,
        )
    }
}

/// Merges sorted runs on disk and a sorted batch in memory.
fn merge<R: Record>(
    runs: Vec<File>,
    memory: Vec<R>,
    each: &mut impl FnMut(R) -> io::Result<()>,
) -> io::Result<()> {
    let mut readers = Vec::with_capacity(runs.len());
    for mut f in runs {
        f.seek(SeekFrom::Start(0))?;
        readers.push(BufReader::with_capacity(1 << 16, f));
    }
    let mut buf = vec![0u8; R::SIZE];
    let mut next = |readers: &mut Vec<BufReader<File>>, k: usize| -> io::Result<Option<R>> {
        match readers[k].read_exact(&mut buf) {
            Ok(()) => Ok(Some(R::decode(&buf))),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    };
    // Heads of the runs, the batch in memory as source `readers.len()`.
    let mut heads: Vec<Option<R>> = Vec::with_capacity(readers.len() + 1);
    let mut heap = BinaryHeap::new();
    for k in 0..readers.len() {
        let head = next(&mut readers, k)?;
        if let Some(r) = head {
            heap.push(Reverse((r.key(), k)));
        }
        heads.push(head);
    }
    let in_memory = readers.len();
    let mut memory = memory.into_iter();
    let head = memory.next();
    if let Some(r) = head {
        heap.push(Reverse((r.key(), in_memory)));
    }
    heads.push(head);
    while let Some(Reverse((_, k))) = heap.pop() {
        let Some(r) = heads[k] else { continue };
        each(r)?;
        let head = if k == in_memory {
            memory.next()
        } else {
            next(&mut readers, k)?
        };
        if let Some(r) = head {
            heap.push(Reverse((r.key(), k)));
        }
        heads[k] = head;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    struct N(u64);

    impl Record for N {
        const SIZE: usize = 8;
        fn key(&self) -> u128 {
            u128::from(self.0)
        }
        fn encode(&self, out: &mut [u8]) {
            out.copy_from_slice(&self.0.to_le_bytes());
        }
        fn decode(bytes: &[u8]) -> Self {
            N(u64::from_le_bytes(bytes.try_into().unwrap()))
        }
    }

    #[test]
    fn texts_read_back_past_their_budget() {
        let mut t = Texts::new(10);
        let words = [
            "",
            "four",
            "three",
            "x",
            "a longer one",
            "",
            "é and ü",
            "last",
        ];
        for w in words {
            t.push(w).unwrap();
        }
        assert_eq!(t.in_memory, 4, "those within the 10 bytes");
        assert!(t.file.is_some());
        for (i, w) in words.iter().enumerate().rev() {
            assert_eq!(t.get(i).unwrap(), *w);
        }
    }

    /// Sorting with a budget of a few records (many runs, merged on the way more than once)
    /// gives what sorting in memory gives.
    #[test]
    fn sorts_past_its_budget() {
        let values: Vec<u64> = (0..5000u64).map(|i| (i * 7919) % 5003).collect();
        for budget in [1, 3, 100, 10_000] {
            let mut s = Sorter::new(budget);
            for &v in &values {
                s.push(N(v)).unwrap();
            }
            let mut out = Vec::new();
            s.drain(&mut |r| {
                out.push(r.0);
                Ok(())
            })
            .unwrap();
            let mut want = values.clone();
            want.sort();
            assert_eq!(out, want, "budget {budget}");
        }
    }

    #[test]
    fn a_spool_gives_back_what_it_took() {
        for budget in [0, 5, 1 << 20] {
            let mut s = Spool::new(budget);
            for i in 0..100 {
                s.write(format!("line {i}\n").as_bytes()).unwrap();
            }
            let mut out = Vec::new();
            s.copy_to(&mut out).unwrap();
            let want: String = (0..100).map(|i| format!("line {i}\n")).collect();
            assert_eq!(String::from_utf8(out).unwrap(), want, "budget {budget}");
        }
    }
}
