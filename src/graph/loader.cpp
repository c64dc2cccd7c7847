#include "graph/loader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "graph/parser.hpp"

namespace agentd::graph {
namespace {

namespace fs = std::filesystem;

bool IsGraphFile(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

}  // namespace

Catalog CatalogOf(const config::Config& config) {
  Catalog c;
  for (const auto& m : config.models) c.models.push_back(m.name);
  for (const auto& t : config.tools) c.tools.push_back(t.name);
  c.mcp_servers = config.mcp_servers;
  for (const auto& g : config.graphs) c.builtin_graphs.push_back(g.graph_id);
  return c;
}

LoadedGraphs LoadGraphTexts(const std::vector<std::pair<std::string, std::string>>& files, const Catalog& catalog) {
  LoadedGraphs out;
  std::vector<GraphDef> defs;
  for (const auto& [name, text] : files) {
    out.files.push_back(name);
    auto def = ParseGraph(text, name, out.diags);
    if (def) defs.push_back(std::move(*def));
  }
  for (const auto& def : defs) ValidateGraph(def, catalog, out.diags);
  ValidateSet(defs, catalog, out.diags);
  if (out.diags.empty()) out.graphs = std::move(defs);
  return out;
}

LoadedGraphs LoadGraphFiles(const config::Config& config) {
  std::vector<std::pair<std::string, std::string>> texts;
  Diagnostics read_errors;
  auto read = [&](const std::string& path, const std::string& key) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      read_errors.AddIn(path, {}, key, "cannot read the file");
      return;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    texts.emplace_back(path, buffer.str());
  };
  if (!config.graphs_dir.empty()) {
    std::error_code ec;
    std::vector<fs::path> paths;
    for (fs::directory_iterator it(config.graphs_dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && IsGraphFile(it->path())) paths.push_back(it->path());
    }
    if (ec) {
      read_errors.AddIn(config.graphs_dir, {}, "graphs_dir", fmt::format("cannot read the directory: {}", ec.message()));
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) read(p.string(), "");
  }
  for (const auto& ref : config.graph_files) read(ref.path, ref.key);
  LoadedGraphs out = LoadGraphTexts(texts, CatalogOf(config));
  if (!read_errors.empty()) {
    read_errors.Append(out.diags);
    out.diags = std::move(read_errors);
    out.graphs.clear();
  }
  return out;
}

}  // namespace agentd::graph
