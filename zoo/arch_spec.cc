#include "zoo/arch_spec.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "ops/dropout.h"
#include "ops/nn.h"
#include "ops/pool.h"
#include "zoo/layers.h"

namespace strata::zoo {
namespace {

// Numbers in a spec above this are typos, not models.
constexpr int64_t kMaxNumber = 1000000;

// A recursive-descent parser over the lower-cased spec; positions are
// reported 1-based, over the text as written.
class Parser {
 public:
  explicit Parser(absl::string_view spec) : original_(spec), text_(absl::AsciiStrToLower(spec)) {}

  absl::StatusOr<ArchSpec> Parse() {
    ArchSpec spec;
    SkipSpaces();
    if (AtEnd()) return absl::InvalidArgumentError("arch spec is empty");
    if (Peek("in") && pos_ + 2 < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_ + 2]))) {
      STRATA_RETURN_IF_ERROR(ParseInput(spec));
    }
    STRATA_ASSIGN_OR_RETURN(spec.layers, ParseList());
    SkipSpaces();
    if (!AtEnd()) {
      if (text_[pos_] == ')' || text_[pos_] == ']') {
        return Error(pos_, absl::StrCat("'", original_.substr(pos_, 1), "' closes no group"));
      }
      return Error(pos_, absl::StrCat("expected ',' between layers, found '", Rest(), "'"));
    }
    const ArchLayer& last = spec.layers.back();
    if (last.kind != ArchLayer::Kind::kFc) {
      return Error(last.position - 1, absl::StrCat("the last layer must be fc-N (the logits), not '", last.text, "'"));
    }
    return spec;
  }

 private:
  absl::Status Error(size_t at, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat("arch spec position ", at + 1, ": ", message));
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  bool Peek(absl::string_view s) const { return absl::string_view(text_).substr(pos_, s.size()) == s; }
  void SkipSpaces() {
    while (!AtEnd() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  // The rest of the current token, for messages.
  std::string Rest() const {
    size_t end = pos_;
    while (end < text_.size() && text_[end] != ',' && text_[end] != ')' && text_[end] != ']') ++end;
    return std::string(original_.substr(pos_, std::max<size_t>(end - pos_, 1)));
  }

  // A whole number at pos_; `after` is the text before it for the message.
  absl::StatusOr<int64_t> Number(size_t token_start) {
    if (AtEnd() || !std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      return Error(pos_, absl::StrCat("expected a number after '", original_.substr(token_start, pos_ - token_start),
                                      "'"));
    }
    const size_t start = pos_;
    int64_t value = 0;
    while (!AtEnd() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      value = value * 10 + (text_[pos_] - '0');
      if (value > kMaxNumber) return Error(start, absl::StrCat("number too large (at most ", kMaxNumber, ")"));
      ++pos_;
    }
    return value;
  }
  absl::StatusOr<int64_t> PositiveNumber(size_t token_start, absl::string_view what) {
    const size_t start = pos_;
    STRATA_ASSIGN_OR_RETURN(int64_t value, Number(token_start));
    if (value < 1) return Error(start, absl::StrCat(what, " must be at least 1 in '", Token(token_start), "'"));
    return value;
  }
  std::string Token(size_t start) const { return std::string(original_.substr(start, pos_ - start)); }
  absl::Status Expect(char c, size_t token_start) {
    if (AtEnd() || text_[pos_] != c) {
      return Error(pos_, absl::StrCat("expected '", std::string(1, c), "' after '", Token(token_start), "'"));
    }
    ++pos_;
    return absl::OkStatus();
  }

  absl::Status ParseInput(ArchSpec& spec) {
    const size_t start = pos_;
    pos_ += 2;
    STRATA_ASSIGN_OR_RETURN(spec.channels, PositiveNumber(start, "the channel count"));
    STRATA_RETURN_IF_ERROR(Expect('x', start));
    STRATA_ASSIGN_OR_RETURN(const int64_t height, PositiveNumber(start, "the height"));
    STRATA_RETURN_IF_ERROR(Expect('x', start));
    STRATA_ASSIGN_OR_RETURN(const int64_t width, PositiveNumber(start, "the width"));
    if (height != width) {
      return Error(start, absl::StrCat("'", Token(start), "': only square inputs are supported (height ", height,
                                       ", width ", width, ")"));
    }
    spec.image_size = height;
    spec.input_given = true;
    SkipSpaces();
    return Expect(':', start);
  }

  absl::StatusOr<std::vector<ArchLayer>> ParseList() {
    std::vector<ArchLayer> layers;
    while (true) {
      SkipSpaces();
      STRATA_ASSIGN_OR_RETURN(std::vector<ArchLayer> item, ParseItem());
      layers.insert(layers.end(), item.begin(), item.end());
      if (static_cast<int64_t>(layers.size()) > kMaxArchLayers) {
        return Error(pos_ - 1, absl::StrCat("more than ", kMaxArchLayers, " layers"));
      }
      SkipSpaces();
      if (AtEnd() || text_[pos_] != ',') return layers;
      ++pos_;
    }
  }

  absl::StatusOr<std::vector<ArchLayer>> ParseItem() {
    if (AtEnd()) return Error(pos_, "expected a layer at the end of the spec");
    const char open = text_[pos_];
    if (open != '(' && open != '[') {
      STRATA_ASSIGN_OR_RETURN(ArchLayer layer, ParseLayer());
      return std::vector<ArchLayer>{layer};
    }
    const size_t open_pos = pos_++;
    const char close = open == '(' ? ')' : ']';
    // Each level is a recursion: a hostile spec of many '(' must not
    // exhaust the stack.
    if (++depth_ > kMaxDepth) return Error(open_pos, absl::StrCat("groups nested more than ", kMaxDepth, " deep"));
    STRATA_ASSIGN_OR_RETURN(std::vector<ArchLayer> body, ParseList());
    --depth_;
    SkipSpaces();
    if (AtEnd()) {
      return Error(open_pos, absl::StrCat("'", std::string(1, open), "' is never closed"));
    }
    if (text_[pos_] != close) {
      if (text_[pos_] == ')' || text_[pos_] == ']') {
        return Error(pos_, absl::StrCat("'", original_.substr(pos_, 1), "' closes the '", std::string(1, open),
                                        "' at position ", open_pos + 1));
      }
      return Error(pos_, absl::StrCat("expected ',' or '", std::string(1, close), "', found '", Rest(), "'"));
    }
    ++pos_;
    SkipSpaces();
    int64_t times = 1;
    if (!AtEnd() && text_[pos_] == '*') {
      const size_t star = pos_++;
      SkipSpaces();
      const size_t number = pos_;
      STRATA_ASSIGN_OR_RETURN(times, Number(star));
      if (times < 1) return Error(number, "a group repeats at least once ('*1')");
    }
    if (static_cast<int64_t>(body.size()) * times > kMaxArchLayers) {
      return Error(open_pos, absl::StrCat("the group expands to more than ", kMaxArchLayers, " layers"));
    }
    std::vector<ArchLayer> layers;
    for (int64_t i = 0; i < times; ++i) layers.insert(layers.end(), body.begin(), body.end());
    return layers;
  }

  absl::StatusOr<ArchLayer> ParseLayer() {
    using Kind = ArchLayer::Kind;
    ArchLayer layer;
    const size_t start = pos_;
    layer.position = static_cast<int64_t>(start) + 1;
    while (!AtEnd() && std::isalpha(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    const std::string name = text_.substr(start, pos_ - start);
    if (name == "conv") {
      layer.kind = Kind::kConv;
      STRATA_ASSIGN_OR_RETURN(layer.size, PositiveNumber(start, "the kernel size"));
      STRATA_RETURN_IF_ERROR(Expect('-', start));
      STRATA_ASSIGN_OR_RETURN(layer.units, PositiveNumber(start, "the filter count"));
      layer.pad = (layer.size - 1) / 2;
      bool stride_given = false, pad_given = false;
      while (!AtEnd() && text_[pos_] == '-') {
        ++pos_;
        if (Peek("s") && !stride_given) {
          ++pos_;
          stride_given = true;
          STRATA_ASSIGN_OR_RETURN(layer.stride, PositiveNumber(start, "the stride"));
        } else if (Peek("p") && !pad_given) {
          ++pos_;
          pad_given = true;
          STRATA_ASSIGN_OR_RETURN(layer.pad, Number(start));
        } else {
          return Error(pos_, absl::StrCat("expected 's' (stride) or 'p' (padding) after '", Token(start), "'"));
        }
      }
    } else if (name == "relu" || name == "tanh" || name == "sigmoid" || name == "bn") {
      layer.kind = name == "relu" ? Kind::kRelu : name == "tanh" ? Kind::kTanh
                   : name == "sigmoid" ? Kind::kSigmoid : Kind::kBatchNorm;
    } else if (name == "pool" || name == "maxpool" || name == "avgpool") {
      layer.kind = name == "avgpool" ? Kind::kAvgPool : Kind::kMaxPool;
      STRATA_ASSIGN_OR_RETURN(layer.size, PositiveNumber(start, "the window"));
      layer.stride = layer.size;
    } else if (name == "dropout") {
      layer.kind = Kind::kDropout;
      const size_t number = pos_;
      while (!AtEnd() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.')) ++pos_;
      const std::string digits = text_.substr(number, pos_ - number);
      char* end = nullptr;
      layer.rate = digits.empty() ? -1 : std::strtod(digits.c_str(), &end);
      if (digits.empty() || end != digits.c_str() + digits.size()) {
        return Error(number, absl::StrCat("expected a rate like 0.5 after 'dropout', found '", Token(number), "'"));
      }
      if (layer.rate >= 1) return Error(number, absl::StrCat("dropout rate ", digits, " must be below 1"));
    } else if (name == "fc") {
      layer.kind = Kind::kFc;
      STRATA_RETURN_IF_ERROR(Expect('-', start));
      STRATA_ASSIGN_OR_RETURN(layer.units, PositiveNumber(start, "the unit count"));
    } else {
      pos_ = start;
      return Error(start, absl::StrCat("unknown layer '", Rest(),
                                       "'; expected conv, relu, tanh, sigmoid, pool, avgpool, bn, dropout, fc, "
                                       "'(' or '['"));
    }
    if (!AtEnd() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) {
      const size_t bad = pos_;
      pos_ = start;
      return Error(bad, absl::StrCat("unexpected '", original_.substr(bad, 1), "' in '", Rest(), "'"));
    }
    layer.text = Token(start);
    return layer;
  }

  static constexpr int kMaxDepth = 32;
  absl::string_view original_;
  std::string text_;
  size_t pos_ = 0;
  int depth_ = 0;
};

std::string ShapeText(const Shape& s) {
  std::string text;
  for (int i = 1; i < s.rank(); ++i) absl::StrAppend(&text, i > 1 ? "x" : "", s[i]);
  return text;
}

absl::Status DoesNotFit(size_t index, const ArchLayer& layer, const Shape& in, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("arch spec layer ", index + 1, " ('", layer.text, "' at position ",
                                                 layer.position, ") does not fit its input ", ShapeText(in), ": ",
                                                 why));
}

}  // namespace

absl::StatusOr<ArchSpec> ParseArchSpec(absl::string_view spec) { return Parser(spec).Parse(); }

int64_t ArchClasses(const ArchSpec& spec) { return spec.layers.empty() ? 0 : spec.layers.back().units; }

absl::StatusOr<Model> BuildArchModel(Graph& g, const ModelConfig& config, absl::string_view text) {
  using Kind = ArchLayer::Kind;
  STRATA_ASSIGN_OR_RETURN(const ArchSpec spec, ParseArchSpec(text));
  if (ArchClasses(spec) != config.num_classes) {
    return absl::InvalidArgumentError(absl::StrCat("arch spec: the last layer '", spec.layers.back().text,
                                                   "' gives ", ArchClasses(spec), " logits but the model is for ",
                                                   config.num_classes, " classes (--classes)"));
  }
  Model m = ClassifierInputs(g, config, spec.channels, spec.image_size);
  constexpr LayerInit kInit = LayerInit::kFanInUniform;
  Output x = m.images;
  int convs = 0, pools = 0, fcs = 0;
  // The layer that activations, batch norm and dropout belong to.
  std::string owner;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const ArchLayer& layer = spec.layers[i];
    const Shape in = x.shape();
    const bool spatial = in.rank() == 4;
    switch (layer.kind) {
      case Kind::kConv: {
        if (!spatial) return DoesNotFit(i, layer, in, "a convolution needs a CxHxW input, not the output of an fc");
        const int64_t padded = in[2] + 2 * layer.pad;
        if (layer.pad >= layer.size) {
          return DoesNotFit(i, layer, in, absl::StrCat("padding ", layer.pad, " must be below the kernel size"));
        }
        if (padded < layer.size || (padded - layer.size) % layer.stride != 0) {
          return DoesNotFit(i, layer, in,
                            absl::StrCat("(N - F + 2P)/S + 1 = (", in[2], " - ", layer.size, " + 2*", layer.pad,
                                         ")/", layer.stride, " + 1 is not a whole number of at least 1"));
        }
        owner = absl::StrCat("conv", ++convs);
        x = ConvLayer(g, owner, x, {layer.units, layer.size, layer.stride, layer.pad, true, kInit});
        break;
      }
      case Kind::kMaxPool:
      case Kind::kAvgPool: {
        if (!spatial) return DoesNotFit(i, layer, in, "pooling needs a CxHxW input, not the output of an fc");
        if (in[2] < layer.size) {
          return DoesNotFit(i, layer, in, absl::StrCat("the ", layer.size, "x", layer.size,
                                                       " window is larger than the ", in[2], "x", in[3], " map"));
        }
        owner = absl::StrCat("pool", ++pools);
        const ops::PoolOptions opts{layer.size, layer.size};
        x = layer.kind == Kind::kMaxPool ? ops::MaxPool(g, x, opts, owner) : ops::AvgPool(g, x, opts, owner);
        break;
      }
      case Kind::kFc:
        owner = absl::StrCat("fc", ++fcs);
        x = DenseLayer(g, owner, x, layer.units, kInit);
        break;
      case Kind::kRelu:
      case Kind::kTanh:
      case Kind::kSigmoid:
      case Kind::kBatchNorm:
      case Kind::kDropout: {
        if (owner.empty()) owner = "input";
        Graph::Scope scope(g, owner);
        if (layer.kind == Kind::kRelu) x = ops::Relu(g, x, "relu");
        if (layer.kind == Kind::kTanh) x = ops::Tanh(g, x, "tanh");
        if (layer.kind == Kind::kSigmoid) x = ops::Sigmoid(g, x, "sigmoid");
        if (layer.kind == Kind::kBatchNorm) x = BatchNormLayer(g, "bn", x);
        if (layer.kind == Kind::kDropout && layer.rate > 0) x = ops::Dropout(g, x, layer.rate, "dropout");
        break;
      }
    }
    if (!g.status().ok()) {
      return absl::InvalidArgumentError(absl::StrCat("arch spec layer ", i + 1, " ('", layer.text, "' at position ",
                                                     layer.position, "), input ", ShapeText(in), ": ",
                                                     g.status().message()));
    }
  }
  m.logits = x;
  return FinishClassifier(g, m);
}

}  // namespace strata::zoo
