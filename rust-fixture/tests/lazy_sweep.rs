//! The claim hint and the lazy registration sweep (PROTOCOL.md §5 step 2, §5.1).

mod common;
use common::*;
use warmcache::layout::{PART_CLAIM_HINT, SLOT_STATE};
use warmcache::state::State;
use warmcache::{Cache, OpenOptions, PutOptions};

const WRITING: u64 = 1;

fn hint_of(c: &Cache, p: &TmpPath, index: u32) -> u64 {
    peek(p.path(), c.layout().participant_offset(index) + PART_CLAIM_HINT)
}

fn legacy(p: &TmpPath) -> Cache {
    Cache::open(p.path(), OpenOptions { legacy_sweep: true, ..quick() }).expect("open legacy")
}

#[test]
fn clean_predecessor_costs_no_sweep() {
    let p = TmpPath::new("lazy-clean");
    let keeper = create(&p, small());
    let a = open(&p); // entry 1
    a.put(b"k", b"v", PutOptions::default()).unwrap();
    drop(a);
    assert_eq!(hint_of(&keeper, &p, 1), 0, "claim_hint after a finished put");
    // WRITING(2) in shard 3 slot 0, a claim no hint covers: a lazy registrant does not look.
    let off = keeper.layout().slot_offset(3, 0) + SLOT_STATE;
    poke(p.path(), off, (1u64 << 32) | (2 << 16) | WRITING);
    let b = open(&p);
    assert_eq!(b.participant_id(), 2);
    assert_eq!(peek(p.path(), off) & 0xFF, WRITING, "lazy registration swept an uncovered slot");
    drop(b);
    let _l = legacy(&p);
    assert_eq!(peek(p.path(), off) & 0xFF, 0, "the 1.0 sweep did not reach every slot");
}

#[test]
fn successor_sweeps_the_hinted_window() {
    for refresh in [false, true] {
        let p = TmpPath::new("lazy-window");
        let keeper = create(&p, small());
        if refresh {
            keeper.put(b"k", b"old", PutOptions::default()).unwrap();
        }
        let dying = open(&p);
        let _staged = dying.put_staged(b"k", b"new", PutOptions::default()).unwrap();
        assert_eq!(dying.claim_hint_word() & 0xFFFF, 1, "in_flight while holding a claim");
        drop(dying); // the owner is dead with its claim; its hint stays
        let _successor = open(&p);
        let st = keeper.stats();
        assert_eq!(st.totals.counters.reclaims, 1, "refresh={refresh}");
        assert_eq!(st.totals.occupancy.get(State::Writing) + st.totals.occupancy.get(State::Refreshing), 0);
    }
}

/// A 1.0 owner never writes the hint: what an earlier 1.1 owner of the same entry left there
/// ("no claims") must not be trusted after it.
#[test]
fn stale_hint_of_an_earlier_epoch_is_not_trusted() {
    let p = TmpPath::new("lazy-stale");
    let keeper = create(&p, small());
    let lazy = open(&p);
    lazy.put(b"a", b"1", PutOptions::default()).unwrap();
    drop(lazy); // entry 1: claim_hint 0, hint_epoch 1
    let old = legacy(&p);
    let _staged = old.put_staged(b"b", b"2", PutOptions::default()).unwrap();
    drop(old); // a 1.0 owner died holding a claim; epoch 2, hint_epoch still 1
    let _successor = open(&p);
    let st = keeper.stats();
    assert_eq!(st.totals.counters.reclaims, 1, "stale hint trusted");
    assert_eq!(st.totals.occupancy.get(State::Writing), 0);
}

#[test]
fn a_finished_staged_write_leaves_the_hint() {
    let p = TmpPath::new("lazy-staged");
    let c = create(&p, small());
    let st = c.put_staged(b"k", b"v", PutOptions::default()).unwrap();
    assert_ne!(c.claim_hint_word(), 0);
    c.publish_staged(st).unwrap();
    assert_eq!(c.claim_hint_word(), 0);
}
