// Whole files: WriteFileAtomically replaces a file so that readers, and the
// file after a crash, see either the old contents or the new ones, never a
// part (checkpoints, reports, ELMTENSOR and compact NeuronIO files);
// AtomicFileWriter does the same for a file written in pieces (.npy);
// ReadFileToString reads a file into memory with errors that name it.
//
// Example:
//   RETURN_IF_ERROR(WriteFileAtomically(path, bytes, "checkpoint"));
//   ASSIGN_OR_RETURN(std::unique_ptr<AtomicFileWriter> w,
//                    AtomicFileWriter::Create(path, ".npy file"));
//   RETURN_IF_ERROR(w->Append(header));  ... RETURN_IF_ERROR(w->Commit());
//   ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, "checkpoint"));
#ifndef ELM_BASE_FILES_H_
#define ELM_BASE_FILES_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace elm {

// A file written in pieces to a new temporary file beside `path` (named
// "<path>.tmp.<pid>.<n>", created exclusively with mode 0666 less the umask)
// that Commit fsyncs, renames over `path` and makes durable by fsyncing the
// directory (best effort: some file systems refuse). Until then, and after
// any failure, `path` is as it was; a failure or the destructor of an
// uncommitted writer removes the temporary file. Errors (their code from
// errno: NotFound for a missing directory, PermissionDenied, ...) read
// "<path>: cannot write <what>[ (directory '<dir>' does not exist)]: <step>
// '<tmp>': <errno text>". Not thread-safe.
class AtomicFileWriter {
 public:
  static absl::StatusOr<std::unique_ptr<AtomicFileWriter>> Create(
      const std::string& path, absl::string_view what = "file");
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Appends bytes (buffered). FailedPrecondition once committed or failed.
  absl::Status Append(absl::string_view bytes);
  // Writes what is buffered and puts the file in place. The writer is done
  // afterwards, whatever the result.
  absl::Status Commit();
  // Drops the file: the temporary file is removed, `path` stays as it was.
  void Abandon();

  // False once committed, abandoned or failed.
  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return tmp_; }

 private:
  AtomicFileWriter(std::string path, std::string tmp, std::string what, int fd);
  absl::Status Flush();
  // Abandons the file and returns the error of `step` (errno as it was).
  absl::Status Fail(absl::string_view step);
  absl::Status NotOpen() const;

  const std::string path_;
  const std::string tmp_;
  const std::string what_;
  int fd_;
  std::string buffer_;
};

// The whole of `contents` as the file at `path`, through an AtomicFileWriter:
// the previous file stays whole until the new one replaces it.
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents,
                                 absl::string_view what = "file");

// Bounds of ReadFileToString: any file (weights, data), and the text files a
// user writes (experiment and dataset specs, model configs, metrics).
inline constexpr uint64_t kMaxReadFileBytes = uint64_t{16} << 30;  // 16 GiB
inline constexpr uint64_t kMaxTextFileBytes = uint64_t{64} << 20;  // 64 MiB

// The whole file at `path`, which must be a regular file (not a directory,
// device such as /dev/zero, pipe or socket) of at most `max_bytes` bytes.
// Errors (their code from errno: NotFound for a missing file,
// PermissionDenied, ...) read "<path>: cannot open <what>: <errno text>",
// "<path>: cannot read <what>: <errno text>", "<path>: cannot read <what>:
// it is a directory|not a regular file" (InvalidArgument) or "<path>: cannot
// read <what>: <n> bytes, more than the <max_bytes> a <what> may have"
// (ResourceExhausted).
absl::StatusOr<std::string> ReadFileToString(
    const std::string& path, absl::string_view what = "file",
    uint64_t max_bytes = kMaxReadFileBytes);

// Appends `bytes` to the file at `path` (created if missing), in one write
// loop with O_APPEND. Errors read "<path>: cannot append to <what>: <errno
// text>" (e.g. "No space left on device").
absl::Status AppendToFile(const std::string& path, absl::string_view bytes,
                          absl::string_view what = "file");

// Creates the directory `path` and its missing parents (mode 0755), like
// `mkdir -p`; repeated and trailing slashes are ignored, so a message never
// shows a doubled one. Errors: "cannot create directory '<the first that
// failed>': <errno text>", or "'<path>' is not a directory".
absl::Status MakeDirectories(const std::string& path);

// The directory part of `path`: "a/b" for "a/b/c", "/" for "/c", "." for "c".
std::string DirectoryOf(const std::string& path);

}  // namespace elm

#endif  // ELM_BASE_FILES_H_
