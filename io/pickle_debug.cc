// Names and printing for messages and debugging: the pickletools names of the
// opcodes and PickleValue::DebugString.
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "io/pickle.h"
#include "io/pickle_internal.h"

namespace elm {
namespace pickle_internal {

const char* OpcodeName(uint8_t op) {
  switch (op) {
    case kMark:
      return "MARK";
    case kStop:
      return "STOP";
    case kPop:
      return "POP";
    case kPopMark:
      return "POP_MARK";
    case kDup:
      return "DUP";
    case kFloatText:
      return "FLOAT";
    case kIntText:
      return "INT";
    case kBinInt:
      return "BININT";
    case kBinInt1:
      return "BININT1";
    case kLongText:
      return "LONG";
    case kBinInt2:
      return "BININT2";
    case kNoneOp:
      return "NONE";
    case kPersId:
      return "PERSID";
    case kBinPersId:
      return "BINPERSID";
    case kReduce:
      return "REDUCE";
    case kStringText:
      return "STRING";
    case kBinString:
      return "BINSTRING";
    case kShortBinString:
      return "SHORT_BINSTRING";
    case kUnicodeText:
      return "UNICODE";
    case kBinUnicode:
      return "BINUNICODE";
    case kAppend:
      return "APPEND";
    case kBuild:
      return "BUILD";
    case kGlobal:
      return "GLOBAL";
    case kDict:
      return "DICT";
    case kEmptyDict:
      return "EMPTY_DICT";
    case kAppends:
      return "APPENDS";
    case kGet:
      return "GET";
    case kBinGet:
      return "BINGET";
    case kInst:
      return "INST";
    case kLongBinGet:
      return "LONG_BINGET";
    case kList:
      return "LIST";
    case kEmptyList:
      return "EMPTY_LIST";
    case kObj:
      return "OBJ";
    case kPut:
      return "PUT";
    case kBinPut:
      return "BINPUT";
    case kLongBinPut:
      return "LONG_BINPUT";
    case kSetItem:
      return "SETITEM";
    case kTuple:
      return "TUPLE";
    case kEmptyTuple:
      return "EMPTY_TUPLE";
    case kSetItems:
      return "SETITEMS";
    case kBinFloat:
      return "BINFLOAT";
    case kProto:
      return "PROTO";
    case kNewObj:
      return "NEWOBJ";
    case kExt1:
      return "EXT1";
    case kExt2:
      return "EXT2";
    case kExt4:
      return "EXT4";
    case kTuple1:
      return "TUPLE1";
    case kTuple2:
      return "TUPLE2";
    case kTuple3:
      return "TUPLE3";
    case kNewTrue:
      return "NEWTRUE";
    case kNewFalse:
      return "NEWFALSE";
    case kLong1:
      return "LONG1";
    case kLong4:
      return "LONG4";
    case kBinBytes:
      return "BINBYTES";
    case kShortBinBytes:
      return "SHORT_BINBYTES";
    case kShortBinUnicode:
      return "SHORT_BINUNICODE";
    case kBinUnicode8:
      return "BINUNICODE8";
    case kBinBytes8:
      return "BINBYTES8";
    case kEmptySet:
      return "EMPTY_SET";
    case kAddItems:
      return "ADDITEMS";
    case kFrozenSet:
      return "FROZENSET";
    case kNewObjEx:
      return "NEWOBJ_EX";
    case kStackGlobal:
      return "STACK_GLOBAL";
    case kMemoize:
      return "MEMOIZE";
    case kFrame:
      return "FRAME";
    case kByteArray8:
      return "BYTEARRAY8";
    case kNextBuffer:
      return "NEXT_BUFFER";
    case kReadonlyBuffer:
      return "READONLY_BUFFER";
    default:
      return nullptr;
  }
}

}  // namespace pickle_internal

namespace {

void AppendQuoted(absl::string_view s, bool bytes, std::string* out) {
  if (bytes) out->push_back('b');
  out->push_back('\'');
  for (char c : s.substr(0, 64)) {
    const uint8_t u = static_cast<uint8_t>(c);
    if (c == '\'' || c == '\\') {
      absl::StrAppend(out, "\\", std::string(1, c));
    } else if (u >= 0x20 && u < 0x7F) {
      out->push_back(c);
    } else {
      absl::StrAppend(out, absl::StrFormat("\\x%02x", u));
    }
  }
  if (s.size() > 64) absl::StrAppend(out, "...");
  out->push_back('\'');
}

void AppendDebug(const PickleValue& v, int max_items, int depth,
                 std::string* out) {
  switch (v.kind()) {
    case PickleKind::kNone:
      absl::StrAppend(out, "None");
      return;
    case PickleKind::kBool:
      absl::StrAppend(out, v.AsBool() ? "True" : "False");
      return;
    case PickleKind::kInt:
      absl::StrAppend(out, v.AsInt());
      return;
    case PickleKind::kFloat:
      absl::StrAppend(out, absl::StrFormat("%.17g", v.AsFloat()));
      return;
    case PickleKind::kStr:
    case PickleKind::kBytes:
      if (v.is_skipped()) {
        absl::StrAppend(out, "<skipped ", v.TypeName(), " of ", v.size(),
                        " bytes>");
      } else {
        AppendQuoted(v.AsString(), v.is_bytes(), out);
      }
      return;
    case PickleKind::kTuple:
    case PickleKind::kList:
    case PickleKind::kDict: {
      const bool dict = v.is_dict();
      const char* open = dict ? "{" : v.is_list() ? "[" : "(";
      const char* close = dict ? "}" : v.is_list() ? "]" : ")";
      if (depth <= 0) {
        absl::StrAppend(out, open, "...", close);
        return;
      }
      absl::StrAppend(out, open);
      const size_t n = v.size();
      for (size_t i = 0; i < n && i < static_cast<size_t>(max_items); ++i) {
        if (i > 0) absl::StrAppend(out, ", ");
        if (dict) {
          AppendDebug(v.key(i), max_items, depth - 1, out);
          absl::StrAppend(out, ": ");
          AppendDebug(v.value(i), max_items, depth - 1, out);
        } else {
          AppendDebug(v.item(i), max_items, depth - 1, out);
        }
      }
      if (n > static_cast<size_t>(max_items)) {
        absl::StrAppend(out, ", ... (", n, " in all)");
      }
      if (v.is_tuple() && n == 1) absl::StrAppend(out, ",");
      absl::StrAppend(out, close);
      return;
    }
    case PickleKind::kGlobal:
      absl::StrAppend(out, v.global_module(), ".", v.global_name());
      return;
    case PickleKind::kObject:
      if (depth <= 0) {
        absl::StrAppend(out, "<", v.TypeName(), ">");
        return;
      }
      AppendDebug(v.callable(), max_items, depth - 1, out);
      AppendDebug(v.args(), max_items, depth - 1, out);
      if (v.has_state()) {
        absl::StrAppend(out, ".__setstate__(");
        AppendDebug(v.state(), max_items, depth - 1, out);
        absl::StrAppend(out, ")");
      }
      return;
    case PickleKind::kNdArray:
      absl::StrAppend(out, "<", v.array().Description(), ">");
      return;
    case PickleKind::kPersistentId:
      absl::StrAppend(out, "persistent_id(");
      AppendDebug(v.persistent_id(), max_items, depth - 1, out);
      absl::StrAppend(out, ")");
      return;
  }
}

}  // namespace

std::string PickleValue::DebugString(int max_items, int max_depth) const {
  std::string out;
  AppendDebug(*this, max_items, max_depth, &out);
  return out;
}

}  // namespace elm
