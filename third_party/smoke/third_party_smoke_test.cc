// Smoke test of every //third_party wrapper: protobuf (generated code, Any,
// text format), Abseil, Eigen, glog and HDF5 link and work together in one
// binary.
#include <cstdio>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "hdf5.h"
#include "third_party/smoke/smoke.pb.h"

namespace {

TEST(ThirdPartySmokeTest, ProtobufAnyAndTextFormat) {
  elm::smoke::Inner inner;
  inner.set_name("w_s");
  inner.add_values(0.5f);
  elm::smoke::Outer outer;
  outer.set_id(7);
  outer.mutable_payload()->PackFrom(inner);

  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(outer, &text));
  elm::smoke::Outer parsed;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &parsed));
  elm::smoke::Inner unpacked;
  ASSERT_TRUE(parsed.payload().UnpackTo(&unpacked));
  EXPECT_EQ(unpacked.name(), "w_s");
  EXPECT_EQ(unpacked.values(0), 0.5f);
  EXPECT_FALSE(
      google::protobuf::TextFormat::ParseFromString("id: \"x\"", &parsed));
}

TEST(ThirdPartySmokeTest, AbseilEigenGlog) {
  absl::StatusOr<int> v = 3;
  EXPECT_EQ(absl::StrCat("v=", *v), "v=3");
  Eigen::Matrix2d m;
  m << 1, 2, 3, 4;
  EXPECT_EQ((m * m)(1, 1), 22);
  CHECK_EQ(m(0, 1), 2);
  LOG(INFO) << "glog works";
}

TEST(ThirdPartySmokeTest, Hdf5WritesAndReadsADataset) {
  const std::string path = absl::StrCat(::testing::TempDir(), "/smoke.h5");
  const std::vector<float> data = {1.5f, -2.0f, 3.25f};
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hsize_t dims[1] = {3};
  hid_t space = H5Screate_simple(1, dims, nullptr);
  hid_t set = H5Dcreate2(file, "x", H5T_NATIVE_FLOAT, space, H5P_DEFAULT,
                         H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(H5Dwrite(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                     data.data()),
            0);
  H5Dclose(set);
  H5Sclose(space);
  H5Fclose(file);

  std::vector<float> back(3);
  file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  set = H5Dopen2(file, "x", H5P_DEFAULT);
  ASSERT_GE(H5Dread(set, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                    back.data()),
            0);
  H5Dclose(set);
  H5Fclose(file);
  EXPECT_EQ(back, data);
  std::remove(path.c_str());
}

}  // namespace
