// Model folder summaries for the setup panel and build versions for the About box, from core's
// config parser and build info.
#include "ui/model_info.h"

#include "core/model/config.h"
#include "core/util/build_info.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace fs = std::filesystem;

namespace qb::ui {

ModelSummary summarizeModel(const std::string& dir)
{
    ModelSummary s;
    fs::path d(dir);
    std::error_code ec;
    if (!fs::is_directory(d, ec)) {
        s.text = dir + ": not a folder";
        return s;
    }
    fs::path cfg = d / "config.json";
    if (fs::exists(cfg)) {
        // core's parser validates every field and refuses unsupported architectures, naming
        // the file and the key: its message is what the user sees.
        try {
            qb::ModelConfig c = qb::loadConfig(cfg);
            double params = double(c.parameterCount());
            std::ostringstream os;
            os << c.architecture << " · " << std::fixed << std::setprecision(params > 1e9 ? 2 : 1)
               << (params > 1e9 ? params / 1e9 : params / 1e6) << (params > 1e9 ? "B" : "M") << " params · "
               << c.torch_dtype << " · " << c.num_hidden_layers << " layers · ctx " << c.max_position_embeddings
               << " · hidden " << c.hidden_size << " · vocab " << c.vocab_size;
            s.text = os.str();
            s.ok = true;
        } catch (const std::exception& e) {
            s.text = e.what();
        }
        return s;
    }
    // llama2.c checkpoint: 7 int32 header fields (dim, hidden, layers, heads, kv heads, vocab, seq_len).
    for (const auto& e : fs::directory_iterator(d, ec))
        if (e.path().extension() == ".bin" && e.path().filename().string().rfind("tok", 0) != 0) {
            std::ifstream in(e.path(), std::ios::binary);
            int32_t h[7] = {};
            if (!in.read(reinterpret_cast<char*>(h), sizeof h)) {
                s.text = e.path().string() + ": too short for a llama2.c checkpoint";
                return s;
            }
            long long bytes = (long long)fs::file_size(e.path(), ec);
            std::ostringstream os;
            os << "llama2.c Llama · " << std::fixed << std::setprecision(2) << (bytes - 28) / 4 / 1e6
               << "M params · float32 · " << h[2] << " layers · ctx " << h[6] << " · dim " << h[0] << " · vocab "
               << std::abs(h[5]);
            s.text = os.str();
            s.ok = true;
            return s;
        }
    s.text = dir + ": no config.json (Hugging Face) or llama2.c .bin checkpoint in this folder";
    return s;
}

Versions versions()
{
    auto b = qb::buildInfo();
    Versions v;
    v.app = b.app_version;
    v.commit = b.git_commit;
    v.torch = b.torch_version;
    v.cudaAvailable = b.cuda_available;
    v.cuda = b.torch_cuda ? (b.cuda_available ? "available: " + b.cuda_device : "built with CUDA, no device")
                          : "not built with CUDA";
    return v;
}

} // namespace qb::ui
