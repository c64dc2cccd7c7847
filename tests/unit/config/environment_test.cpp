// The cgroup memory limit the loader sizes from (memory_limit_bytes = 0, the stream budget):
// /proc/self/cgroup's shapes on cgroup v1 and v2, read under a directory laid out as
// /sys/fs/cgroup is.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "config/environment.hpp"
#include "support/temp_dir.hpp"

namespace agentd::config {
namespace {

void Write(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

TEST(CgroupMemoryLimit, V2ReadsTheOwnCgroupsMemoryMax) {
  testing::TempDir root;
  Write(root.path() / "app/memory.max", "536870912\n");
  EXPECT_EQ(CgroupMemoryLimit("0::/app\n", root.path().string()), 536870912u);
}

TEST(CgroupMemoryLimit, MaxAndMissingFilesMeanNoLimit) {
  testing::TempDir root;
  Write(root.path() / "app/memory.max", "max\n");
  EXPECT_EQ(CgroupMemoryLimit("0::/app\n", root.path().string()), std::nullopt);
  EXPECT_EQ(CgroupMemoryLimit("0::/elsewhere\n", root.path().string()), std::nullopt);
  EXPECT_EQ(CgroupMemoryLimit("", root.path().string()), std::nullopt);
}

TEST(CgroupMemoryLimit, AnAncestorsLowerLimitBinds) {
  testing::TempDir root;
  Write(root.path() / "box/memory.max", "268435456\n");
  Write(root.path() / "box/app/memory.max", "max\n");
  EXPECT_EQ(CgroupMemoryLimit("0::/box/app\n", root.path().string()), 268435456u);
}

TEST(CgroupMemoryLimit, V1ReadsTheMemoryControllersLimitAndIgnoresItsUnlimitedValue) {
  testing::TempDir root;
  const std::string cgroup = "5:cpu,cpuacct:/x\n4:memory:/job/42\n0::/\n";
  Write(root.path() / "memory/job/42/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_EQ(CgroupMemoryLimit(cgroup, root.path().string()), std::nullopt);
  Write(root.path() / "memory/job/memory.limit_in_bytes", "1073741824\n");
  EXPECT_EQ(CgroupMemoryLimit(cgroup, root.path().string()), 1073741824u);
}

TEST(CgroupMemoryLimit, InsideAContainerTheMountsRootIsTheContainersCgroup) {
  // /proc/self/cgroup names the host's path; the namespace shows only the root.
  testing::TempDir root;
  Write(root.path() / "memory/memory.limit_in_bytes", "536870912\n");
  EXPECT_EQ(CgroupMemoryLimit("4:memory:/process_api/f87d\n", root.path().string()), 536870912u);
}

}  // namespace
}  // namespace agentd::config
