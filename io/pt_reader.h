// Reader of PyTorch `.pt` files that hold a state_dict (torch.save of an
// OrderedDict of tensors, in the zip format torch has written since 1.6). The
// zip archive is parsed here (end-of-central-directory record, zip64 records,
// central directory, local headers, CRC-32 of every entry read); entries must
// be stored uncompressed, as torch writes them. `<prefix>/data.pkl` (the
// prefix is the archive name, usually "archive") is unpickled with
// io/pickle.h; each tensor is a `torch._utils._rebuild_tensor_v2(storage,
// offset, size, stride, ...)` call (optionally inside `_rebuild_parameter`)
// whose storage is the persistent id `('storage', torch.<T>Storage, key,
// location, numel)` and whose bytes are the entry `<prefix>/data/<key>`. The
// location (e.g. "cuda:0") is ignored. Storage offsets and any non-negative
// strides are honoured (non-contiguous views are gathered); tensors may be
// empty or 0-dim. Float, Double, Long and Bool storages become NamedTensor
// dtypes f32, f64, i64 and bool; `<prefix>/byteorder` "big" is handled.
// Every problem (not a zip, truncation, a compressed or encrypted entry, a CRC
// mismatch, an unsupported storage type, a bad pickle, strides that leave the
// storage) is an absl::Status whose message starts with the file name.
//
// Example:
//   ASSIGN_OR_RETURN(std::vector<NamedTensor> tensors,
//                    ReadPtStateDict("neuronio_best_model_state.pt"));
//   // tensors[0].name == "_proto_w_s", dtype "f32", shape {4500}.
#ifndef ELM_IO_PT_READER_H_
#define ELM_IO_PT_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "io/elmtensor.h"

namespace elm {

// Reads the state_dict in the `.pt` file at `path`: the tensors in stored
// order, under their state_dict names, values in row-major order (`sparse` is
// false).
absl::StatusOr<std::vector<NamedTensor>> ReadPtStateDict(
    const std::string& path);

// The same for the file's bytes already in memory; `source_name` starts every
// error message.
absl::StatusOr<std::vector<NamedTensor>> ParsePtStateDict(
    absl::string_view contents, absl::string_view source_name);

}  // namespace elm

#endif  // ELM_IO_PT_READER_H_
