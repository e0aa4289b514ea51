// Argument readers for the bindings. The TypeScript layer validates first and gives the
// user-facing messages; these checks are the second line, so a direct call into the addon
// with bad arguments throws instead of touching memory out of bounds.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>

namespace tweedie_addon {

struct ArrayArg {
  void* data = nullptr;
  size_t length = 0;  // elements
  napi_typedarray_type type = napi_int8_array;
  size_t element_size = 1;
  bool present = false;  // false when the argument was null or undefined (optional arrays)
};

// A heap block that frees itself; allocation never throws (exceptions are disabled).
class OwnedBytes {
 public:
  OwnedBytes() = default;
  OwnedBytes(const OwnedBytes&) = delete;
  OwnedBytes& operator=(const OwnedBytes&) = delete;
  ~OwnedBytes() { delete[] data_; }
  bool allocate(size_t bytes) {
    data_ = new (std::nothrow) uint8_t[bytes == 0 ? 1 : bytes];
    return data_ != nullptr;
  }
  uint8_t* data() const { return data_; }

 private:
  uint8_t* data_ = nullptr;
};

// The same `code` as the TypeScript layer's argument errors (src/errors.ts).
constexpr const char* kInvalidArgCode = "ERR_TWEEDIE_INVALID_ARG";

inline bool throw_type(Napi::Env env, const std::string& msg) {
  Napi::TypeError err = Napi::TypeError::New(env, msg);
  err.Set("code", kInvalidArgCode);
  err.ThrowAsJavaScriptException();
  return false;
}

inline bool throw_range(Napi::Env env, const std::string& msg) {
  Napi::RangeError err = Napi::RangeError::New(env, msg);
  err.Set("code", kInvalidArgCode);
  err.ThrowAsJavaScriptException();
  return false;
}

inline size_t element_size(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: return 1;
    case napi_int16_array: case napi_uint16_array: return 2;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: return 4;
    default: return 8;
  }
}

// Type, length (elements) and data pointer (already at the view's first element) of a typed
// array backed by an ArrayBuffer or a SharedArrayBuffer. Read through napi_get_typedarray_info:
// Napi::TypedArray::ArrayBuffer() only handles ArrayBuffers and would leave an exception pending
// (and a null pointer) for a shared buffer. `detached` is true for a detached ArrayBuffer.
inline bool typed_info(napi_env env, napi_value v, napi_typedarray_type* type, size_t* length, void** data,
                       bool* detached) {
  napi_value buffer;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, v, type, length, data, &buffer, &byte_offset) != napi_ok) return false;
  bool is_array_buffer = false;
  *detached = false;
  if (napi_is_arraybuffer(env, buffer, &is_array_buffer) == napi_ok && is_array_buffer &&
      napi_is_detached_arraybuffer(env, buffer, detached) != napi_ok)
    return false;
  return true;
}

// Reads the typed array `v` of type `want` (or, when want2 != want, either of the two).
inline bool read_typed(Napi::Env env, Napi::Value v, const char* name, napi_typedarray_type want,
                       napi_typedarray_type want2, ArrayArg* out) {
  if (!v.IsTypedArray()) return throw_type(env, std::string("Expected a typed array for ") + name);
  napi_typedarray_type t;
  size_t length;
  void* data;
  bool detached;
  if (!typed_info(env, v, &t, &length, &data, &detached))
    return throw_type(env, std::string("Unreadable typed array for ") + name);
  if (t != want && t != want2) return throw_type(env, std::string("Wrong typed array type for ") + name);
  if (detached) return throw_type(env, std::string("Detached ArrayBuffer for ") + name);
  out->type = t;
  out->element_size = element_size(t);
  out->length = length;
  out->data = data;
  out->present = true;
  return true;
}

// Reads argument i as a typed array (see read_typed); null or undefined when optional.
inline bool read_array(const Napi::CallbackInfo& info, size_t i, const char* name, napi_typedarray_type want,
                       napi_typedarray_type want2, bool optional, ArrayArg* out) {
  Napi::Value v = info[i];
  if (optional && (v.IsNull() || v.IsUndefined())) {
    out->present = false;
    return true;
  }
  return read_typed(info.Env(), v, name, want, want2, out);
}

inline bool read_u32(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t* out) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) return throw_type(info.Env(), std::string("Expected a number for ") + name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d)))
    return throw_range(info.Env(), std::string("Expected an unsigned 32-bit integer for ") + name);
  *out = static_cast<uint32_t>(d);
  return true;
}

inline bool read_u64_pair(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t* out) {
  uint32_t lo, hi;
  if (!read_u32(info, i, name, &lo) || !read_u32(info, i + 1, name, &hi)) return false;
  *out = (static_cast<uint64_t>(hi) << 32) | lo;
  return true;
}

inline bool read_size(const Napi::CallbackInfo& info, size_t i, const char* name, size_t* out) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) return throw_type(info.Env(), std::string("Expected a number for ") + name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= 9007199254740991.0) || d != static_cast<double>(static_cast<uint64_t>(d)))
    return throw_range(info.Env(), std::string("Expected a positive integer for ") + name);
  *out = static_cast<size_t>(d);
  return true;
}

// True when the byte ranges of a and b overlap without being the same view.
inline bool partial_overlap(const ArrayArg& a, const ArrayArg& b) {
  if (!a.present || !b.present) return false;
  const uint8_t* a0 = static_cast<const uint8_t*>(a.data);
  const uint8_t* b0 = static_cast<const uint8_t*>(b.data);
  const uint8_t* a1 = a0 + a.length * a.element_size;
  const uint8_t* b1 = b0 + b.length * b.element_size;
  if (a0 >= b1 || b0 >= a1) return false;
  return !(a0 == b0 && a1 == b1 && a.type == b.type);
}

inline bool any_overlap(const ArrayArg& a, const ArrayArg& b) {
  if (!a.present || !b.present) return false;
  const uint8_t* a0 = static_cast<const uint8_t*>(a.data);
  const uint8_t* b0 = static_cast<const uint8_t*>(b.data);
  return a0 < b0 + b.length * b.element_size && b0 < a0 + a.length * a.element_size;
}

}  // namespace tweedie_addon
