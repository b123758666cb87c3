// The files of `convscope-cli run`: NumPy .npy and raw float32 arrays, NCHW/NHWC
// conversion, the allclose-style comparison, and where presets are found.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "io/npy.h"
#include "io/presets.h"
#include "io/tensor_files.h"

namespace convscope::io {
namespace {

namespace fs = std::filesystem;

class IoFiles : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("convscope_io_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path write(const std::string& name, const std::string& bytes) const {
    const fs::path p = dir / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  /// A .npy file with the given header dictionary and data bytes (format 1.0, padded as numpy pads).
  static std::string npy(std::string dict, const std::string& data, int major = 1) {
    const std::size_t prefix = major == 1 ? 10 : 12;
    dict += ' ';
    while ((prefix + dict.size() + 1) % 64 != 0) dict += ' ';
    dict += '\n';
    std::string b = "\x93NUMPY";
    b += static_cast<char>(major);
    b += '\0';
    const std::size_t len = dict.size();
    b += static_cast<char>(len & 0xff);
    b += static_cast<char>((len >> 8) & 0xff);
    if (major != 1) b += std::string(2, '\0');
    return b + dict + data;
  }
  static std::string floats(std::initializer_list<float> v) {
    return {reinterpret_cast<const char*>(std::data(v)), v.size() * sizeof(float)};
  }
};

TEST_F(IoFiles, NpyRoundTripKeepsShapeAndValues) {
  Array a{{2, 3}, {1.5f, -2.f, 0.f, 3.25f, 1e-7f, -1e7f}};
  ASSERT_TRUE(write_array(dir / "a.npy", a));
  auto back = read_npy(dir / "a.npy");
  ASSERT_TRUE(back) << format_diagnostics(back.error());
  EXPECT_EQ(back->shape, a.shape);
  EXPECT_EQ(back->data, a.data);
  EXPECT_EQ(back->shape_str(), "2x3");
  // The header is padded so that the data start on a 64-byte boundary, as numpy writes it.
  EXPECT_EQ((npy_bytes(a).size() - 6 * sizeof(float)) % 64, 0u);
}

TEST_F(IoFiles, ReadsFormatVersionTwoAndFloat64) {
  auto v2 = read_npy(write("v2.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                                         floats({4.f, 5.f}), 2)));
  ASSERT_TRUE(v2) << format_diagnostics(v2.error());
  EXPECT_EQ(v2->data, (std::vector<float>{4.f, 5.f}));
  const double d[3] = {0.5, -1.25, 3.0};
  auto f8 = read_npy(write("f8.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                                         std::string(reinterpret_cast<const char*>(d), sizeof d))));
  ASSERT_TRUE(f8) << format_diagnostics(f8.error());
  EXPECT_EQ(f8->data, (std::vector<float>{0.5f, -1.25f, 3.f}));
}

TEST_F(IoFiles, RefusesWhatItCannotReadWithTheReason) {
  const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }";
  auto message = [&](const fs::path& p) {
    auto r = read_npy(p);
    EXPECT_FALSE(r) << p;
    return r ? std::string() : r.error().front().where + ": " + r.error().front().message;
  };
  EXPECT_NE(message(write("short.npy", npy(header, floats({1.f, 2.f})))).find("truncated: shape 1x3 of float32 needs 12 bytes of data, the file has 8"),
            std::string::npos);
  EXPECT_NE(message(write("long.npy", npy(header, floats({1.f, 2.f, 3.f, 4.f})))).find("trailing bytes"),
            std::string::npos);
  EXPECT_NE(message(write("i8.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
                                        std::string(8, '\0'))))
                .find("dtype '<i8' is not supported"),
            std::string::npos);
  EXPECT_NE(message(write("be.npy", npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                                        std::string(4, '\0'))))
                .find("dtype '>f4'"),
            std::string::npos);
  EXPECT_NE(message(write("f.npy", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3), }",
                                       floats({1.f, 2.f, 3.f}))))
                .find("Fortran-order"),
            std::string::npos);
  EXPECT_NE(message(write("raw.npy", floats({1.f, 2.f, 3.f}))).find("not a .npy file"), std::string::npos);
  EXPECT_NE(message(write("cut.npy", npy(header, "").substr(0, 30))).find("truncated .npy header"), std::string::npos);
  EXPECT_NE(message(dir / "missing.npy").find("missing.npy: no such file"), std::string::npos);
}

TEST_F(IoFiles, RawFloat32NeedsExactlyTheShapesBytes) {
  const fs::path p = write("x.f32", floats({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}));
  auto ok = read_raw_f32(p, {1, 2, 3});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->data.back(), 6.f);
  auto bad = read_raw_f32(p, {1, 2, 4});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().front().message.find("needs 32"), std::string::npos) << bad.error().front().message;
  // write_array writes raw float32 when the name does not end in .npy.
  ASSERT_TRUE(write_array(dir / "y.bin", *ok));
  EXPECT_EQ(fs::file_size(dir / "y.bin"), 24u);
}

TEST(ParseShape, AcceptsXOrCommaAndRefusesNonsense) {
  EXPECT_EQ(*parse_shape("1x3x224x224"), (std::vector<std::int64_t>{1, 3, 224, 224}));
  EXPECT_EQ(*parse_shape("2,3"), (std::vector<std::int64_t>{2, 3}));
  EXPECT_FALSE(parse_shape("1x0x3"));
  EXPECT_FALSE(parse_shape("abc"));
  EXPECT_FALSE(parse_shape(""));
  EXPECT_FALSE(parse_shape("99999999999x99999999999"));
}

TEST(Layouts, NchwAndNhwcRoundTripThroughTheEnginesLayout) {
  const ir::Shape image{2, 3, 4};  // h, w, c
  Array nchw{{2, 4, 2, 3}, {}};
  for (int i = 0; i < 48; ++i) nchw.data.push_back(static_cast<float>(i));
  ASSERT_EQ(*batch_of(nchw, Layout::Nchw, image), 2);
  std::vector<float> nhwc(48);
  to_nhwc(nchw, Layout::Nchw, image, nhwc.data());
  // Element (n=1, c=2, h=1, w=0) of NCHW is at ((1*4+2)*2+1)*3+0 = 39; in NHWC at ((1*2+1)*3+0)*4+2 = 38.
  EXPECT_EQ(nhwc[38], 39.f);
  const Array back = from_nhwc(nhwc.data(), 2, image, Layout::Nchw);
  EXPECT_EQ(back.shape, nchw.shape);
  EXPECT_EQ(back.data, nchw.data);
  const Array as_nhwc = from_nhwc(nhwc.data(), 2, image, Layout::Nhwc);
  EXPECT_EQ(as_nhwc.shape, (std::vector<std::int64_t>{2, 2, 3, 4}));
  EXPECT_EQ(as_nhwc.data, nhwc);
  // A classifier's 1x1 output comes back as [N, C], as frameworks give it.
  EXPECT_EQ(from_nhwc(nhwc.data(), 2, ir::Shape{1, 1, 24}, Layout::Nchw).shape, (std::vector<std::int64_t>{2, 24}));
  // Three axes: one image.
  EXPECT_EQ(*batch_of(Array{{4, 2, 3}, std::vector<float>(24)}, Layout::Nchw, image), 1);
}

TEST(Layouts, AWrongLayoutIsNamedInTheMessage) {
  const ir::Shape image{224, 224, 3};
  auto r = batch_of(Array{{1, 224, 224, 3}, {}}, Layout::Nchw, image);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().front().message.find("give --layout nhwc"), std::string::npos) << r.error().front().message;
  auto res = batch_of(Array{{1, 3, 160, 160}, {}}, Layout::Nchw, image);
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().front().message.find("--resolution"), std::string::npos) << res.error().front().message;
  EXPECT_FALSE(parse_layout("NCWH"));
  EXPECT_EQ(*parse_layout("nhwc"), Layout::Nhwc);
}

TEST(Compare, AllcloseRuleAndWorstElement) {
  const Array ref{{1, 4}, {1.f, -2.f, 100.f, 0.f}};
  Array got = ref;
  got.data[2] = 100.005f;  // within rtol 1e-4 * 100 = 0.01
  auto c = compare_arrays(got, Array{{4}, ref.data}, 1e-4, 1e-4);  // axes of size 1 do not matter
  ASSERT_TRUE(c) << c.error().front().message;
  EXPECT_TRUE(c->ok());
  EXPECT_NEAR(c->max_abs, 0.005, 1e-5);
  got.data[1] = -2.01f;  // 0.01 > 1e-4 + 2e-4
  c = compare_arrays(got, ref, 1e-4, 1e-4);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->ok());
  EXPECT_EQ(c->failing, 1);
  EXPECT_EQ(c->worst, 1);
  EXPECT_NEAR(c->max_rel, 0.005, 1e-5);
  got.data[3] = std::numeric_limits<float>::quiet_NaN();
  c = compare_arrays(got, ref, 1e-4, 1e-4);
  EXPECT_EQ(c->failing, 2);
  auto shape = compare_arrays(Array{{2, 2}, ref.data}, Array{{4}, ref.data}, 1e-4, 1e-4);
  ASSERT_FALSE(shape);
  EXPECT_NE(shape.error().front().message.find("the output has shape 2x2, the reference 4"), std::string::npos);
}

TEST(Presets, FoundByNameThroughTheEnvironmentFirst) {
  const fs::path tmp = fs::temp_directory_path() / ("convscope_presets_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  std::ofstream(tmp / "only_here.json") << "{}";
  ::setenv("CONVSCOPE_PRESETS", tmp.c_str(), 1);
  EXPECT_EQ(preset_dirs().front(), tmp);
  ASSERT_EQ(preset_files().size(), 1u);
  EXPECT_EQ(find_preset("only_here"), tmp / "only_here.json");
  EXPECT_FALSE(find_preset("mobilenet_v2"));
  EXPECT_FALSE(find_preset("../etc/passwd"));
  ::unsetenv("CONVSCOPE_PRESETS");
  fs::remove_all(tmp);
  // Without the variable, the source tree's presets are found from the build tree.
  auto v2 = find_preset("mobilenet_v2");
  ASSERT_TRUE(v2);
  EXPECT_TRUE(fs::exists(*v2));
  EXPECT_GE(preset_files().size(), 10u);
}

}  // namespace
}  // namespace convscope::io
