// Debian's libffi (package libffi-dev) for warmcheck's run-time calls into the ABI libraries
// (docs/ABI.md); the header lives in the multiarch include directory, found through pkg-config.
#include <ffi.h>

// Swift cannot take the address of libffi's ffi_type globals or name FFI_DEFAULT_ABI and
// FFI_FN portably, so these one-liners do it.
static inline ffi_type *wc_ffi_type_u32(void) { return &ffi_type_uint32; }
static inline ffi_type *wc_ffi_type_i32(void) { return &ffi_type_sint32; }
static inline ffi_type *wc_ffi_type_u64(void) { return &ffi_type_uint64; }
static inline ffi_type *wc_ffi_type_i64(void) { return &ffi_type_sint64; }
static inline ffi_type *wc_ffi_type_pointer(void) { return &ffi_type_pointer; }
static inline ffi_type *wc_ffi_type_void(void) { return &ffi_type_void; }
static inline ffi_status wc_ffi_prep(ffi_cif *cif, unsigned nargs, ffi_type *rtype, ffi_type **atypes) {
    return ffi_prep_cif(cif, FFI_DEFAULT_ABI, nargs, rtype, atypes);
}
static inline void wc_ffi_call(ffi_cif *cif, void *fn, void *rvalue, void **avalue) {
    ffi_call(cif, FFI_FN(fn), rvalue, avalue);
}
