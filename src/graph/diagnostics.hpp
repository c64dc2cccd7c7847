#pragma once
// Where a problem in a graph file is, and the list of every problem found. Loading never
// stops at the first error: the parser and the validator add to one Diagnostics, and the
// caller lists them all (`agentd config --validate`, `agentd serve` refusing to start).

#include <string>
#include <vector>

namespace agentd::graph {

// 1-based line and column; 0 when unknown (a problem of a whole file).
struct Mark {
  int line = 0;
  int column = 0;
};

struct Diagnostic {
  std::string file;
  Mark mark;
  std::string path;  // key path ("nodes.classify.output.channel"); empty for the whole file
  std::string message;

  // "<file>:<line>:<column>: <path>: <message>"
  std::string Format() const;
};

class Diagnostics {
 public:
  explicit Diagnostics(std::string file = {}) : file_(std::move(file)) {}
  void Add(Mark mark, std::string path, std::string message);
  // An error of another file (set-level checks: duplicate ids across files).
  void AddIn(std::string file, Mark mark, std::string path, std::string message);
  void Append(const Diagnostics& other);
  bool empty() const { return items_.empty(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  const std::string& file() const { return file_; }
  // Every diagnostic, one per line.
  std::string Format() const;

 private:
  std::string file_;
  std::vector<Diagnostic> items_;
};

}  // namespace agentd::graph
