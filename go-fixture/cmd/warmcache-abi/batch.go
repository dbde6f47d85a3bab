package main

/*
#include <stdint.h>
*/
import "C"

import (
	"encoding/binary"
	"unsafe"
)

// wc_batch runs a whole batch of ABI calls in one crossing from C into Go (docs/ABI.md
// "Batches"). Go 1.19 pays ~1.5 µs for every call that enters Go from a thread Go did not
// create (each needs an M bound and released), which capped per-call throughput near
// 100–150 k calls/s; one crossing per batch amortises that over thousands of calls.
//
// The batch format is the worker's: u32 count, then per call u32 function id (the ABI table's
// order), u32 value count, u32 blob count, u32 zero, the values (u64 each), then per blob a u64
// length and the bytes padded to 8. Results: per call the return value widened to u64 (an i32
// sign-extended), then the function's out words (an i32 out sign-extended). Missing values and
// blobs read as 0 and empty, and a u32 parameter takes the value's low 32 bits, exactly as
// separate libffi calls would pass them. Returns the number of result words, or -1 if the batch
// is malformed or the results do not fit (nothing is read or written out of bounds either way).
//
// Blobs stay where they are in the caller's buffer: get and decode_image may write their image
// exactly as a separate call would write its own.
//
//export wc_batch
func wc_batch(calls *C.uint8_t, n C.uint64_t, results *C.uint64_t, resultWords C.uint64_t) C.int64_t {
	buf := bytesOf(calls, n)
	res := wordsOf(results, int(resultWords))
	if results == nil {
		res = nil
	}
	base := unsafe.Pointer(calls)
	u32 := func(at int) uint32 { return binary.LittleEndian.Uint32(buf[at:]) }
	if len(buf) < 4 {
		return -1
	}
	count := int(u32(0))
	at, produced := 4, 0
	var values [8]uint64
	var blobPtr [2]*C.uint8_t
	var blobLen [2]C.uint64_t
	var out [9]C.uint64_t
	var rule C.int32_t
	for c := 0; c < count; c++ {
		if at+16 > len(buf) {
			return -1
		}
		fn, nvals, nblobs := u32(at), int(u32(at+4)), int(u32(at+8))
		at += 16
		if nvals > len(buf) || at+8*nvals > len(buf) {
			return -1
		}
		for i := range values {
			values[i] = 0
			if i < nvals {
				values[i] = binary.LittleEndian.Uint64(buf[at+8*i:])
			}
		}
		at += 8 * nvals
		for i := range blobPtr {
			blobPtr[i], blobLen[i] = nil, 0
		}
		for b := 0; b < nblobs; b++ {
			if at+8 > len(buf) {
				return -1
			}
			l := binary.LittleEndian.Uint64(buf[at:])
			at += 8
			if l > uint64(len(buf)-at) {
				return -1
			}
			if b < len(blobPtr) {
				blobPtr[b], blobLen[b] = (*C.uint8_t)(unsafe.Add(base, at)), C.uint64_t(l)
			}
			at += int(l) + int((8-l%8)%8)
		}
		u := func(i int) C.uint32_t { return C.uint32_t(values[i]) }
		v := func(i int) C.uint64_t { return C.uint64_t(values[i]) }
		for i := range out {
			out[i] = 0
		}
		var ret uint64
		outs := 0
		i32 := func(r C.int32_t) uint64 { return uint64(int64(r)) }
		switch fn {
		case 0:
			ret = uint64(wc_abi_version())
		case 1:
			ret = uint64(wc_wch64(blobPtr[0], blobLen[0], v(0)))
		case 2:
			ret = uint64(wc_state_encode(u(0), u(1), u(2), u(3)))
		case 3:
			ret, outs = i32(wc_state_decode(v(0), u(1), &out[0])), 4
		case 4:
			ret = i32(wc_snapshot_ok(v(0), v(1), u(2)))
		case 5:
			ret = i32(wc_geometry_rule(u(0), u(1), u(2), u(3), u(4), u(5)))
		case 6:
			ret, outs = i32(wc_layout(u(0), u(1), u(2), u(3), u(4), u(5), &out[0])), 6
		case 7:
			ret = i32(wc_expiry(v(0), v(1), v(2)))
		case 8:
			ret = uint64(wc_auto_version(v(0), v(1)))
		case 9:
			ret = uint64(wc_layout_constant(u(0)))
		case 10:
			rule = 0
			ret, outs = i32(wc_header_check(blobPtr[0], blobLen[0], &rule)), 1
			out[0] = C.uint64_t(i32(rule))
		case 11:
			ret, outs = i32(wc_get(blobPtr[0], blobLen[0], blobPtr[1], blobLen[1], v(0), &out[0])), 9
		case 12:
			ret, outs = i32(wc_decode_image(blobPtr[0], blobLen[0], v(0), &out[0])), 8
		default:
			return -1
		}
		if produced+1+outs > len(res) {
			return -1
		}
		res[produced] = ret
		for k := 0; k < outs; k++ {
			res[produced+1+k] = uint64(out[k])
		}
		produced += 1 + outs
	}
	return C.int64_t(produced)
}
