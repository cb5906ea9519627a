#include "tools/config_file.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "tools/train_config.pb.h"

namespace strata::tools {
namespace {

using google::protobuf::FieldDescriptor;

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    // protobuf counts from 0; editors from 1.
    errors.push_back(absl::StrFormat("line %d column %d: %s", line + 1, column + 1, message));
  }
  std::vector<std::string> errors;
};

// A field's value as its flag's command-line text.
std::string FlagText(const TrainConfigFile& config, const FieldDescriptor* field) {
  const auto* r = config.GetReflection();
  if (field->is_repeated()) {
    std::vector<std::string> items;
    for (int i = 0; i < r->FieldSize(config, field); ++i) {
      items.push_back(absl::StrCat(r->GetRepeatedInt32(config, field, i)));
    }
    return absl::StrJoin(items, ",");
  }
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: return r->GetString(config, field);
    case FieldDescriptor::CPPTYPE_BOOL: return r->GetBool(config, field) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_INT32: return absl::StrCat(r->GetInt32(config, field));
    case FieldDescriptor::CPPTYPE_INT64: return absl::StrCat(r->GetInt64(config, field));
    case FieldDescriptor::CPPTYPE_UINT64: return absl::StrCat(r->GetUInt64(config, field));
    case FieldDescriptor::CPPTYPE_DOUBLE: return absl::StrFormat("%.17g", r->GetDouble(config, field));
    default: return "";  // the schema has no other types
  }
}

}  // namespace

std::string FindConfigArgument(int argc, char** argv) {
  std::string found;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;  // what follows is not a flag
    if (absl::StartsWith(arg, "--config=")) {
      found = std::string(arg.substr(9));
    } else if (arg == "--config" && i + 1 < argc) {
      found = argv[++i];
    }
  }
  return found;
}

absl::Status ApplyConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--config: cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  TrainConfigFile config;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text.str(), &config)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--config: ", path, " is not a text-format TrainConfigFile (tools/train_config.proto): ",
        errors.errors.empty() ? "parse error" : absl::StrJoin(errors.errors, "; ")));
  }
  std::vector<const FieldDescriptor*> fields;
  config.GetReflection()->ListFields(config, &fields);
  for (const FieldDescriptor* field : fields) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(field->name());
    if (flag == nullptr) {
      return absl::InternalError(absl::StrCat("--config: field ", field->name(), " has no flag of its name"));
    }
    std::string error;
    const std::string value = FlagText(config, field);
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--config: ", path, ": ", field->name(), ": '", value, "': ", error));
    }
  }
  return absl::OkStatus();
}

}  // namespace strata::tools
