// FAISS timed from C++ on exactly the index specs Codebook's `bench` runs, with the same warm-up
// and the same statistic, so that the ratios measure the two libraries and not a Python loop.
//
//   tools/faiss_bench/build.sh                       # once, after ../shared/peers/build_faiss_avx2.sh
//   tools/faiss_bench/faiss_spec_bench DATA.hdf5 --spec IVF256,PQ48x4fs --nprobe 1,16,64
//     --threads 1 --out faiss.jsonl
//
// Per spec: the index is built from the FAISS factory string (inner product for `angular` data,
// vectors scaled to unit length, as tools/faiss_spec_bench.py does), trained on at most
// --max-train rows (all rows when there are fewer; above, a seeded sample) and every row added.
// Per nprobe x k_factor x threads, two modes are timed, each the way Codebook's `bench` times
// its own (dev.codebook.loadtest.bench.PassTimer):
//   qps     one search call with every query (OpenMP and OpenBLAS held to `threads`);
//   qps_1q  one search call per query, from `threads` callers (each with one OpenMP thread).
// A mode's first pass gives the answers (recall), then passes go on untimed for --warmup
// seconds, then timed passes go on until at least --min-passes of them and --min-time seconds;
// each pass's QPS is queries / seconds, and the line reports their median (qps, qps_1q) with
// the lowest and highest (qps_min/qps_max, qps_1q_min/qps_1q_max) and the pass counts, and
// qps_cpu/qps_1q_cpu: queries per second of the process's CPU time over the timed passes.
// JSON lines in the schema of `bin/codebook bench` go to stdout (and --out); progress to stderr.
#include <faiss/IVFlib.h>
#include <faiss/Index.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexIVFPQFastScan.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexPQFastScan.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>
#include <faiss/utils/random.h>
#include <faiss/utils/utils.h>
#include <hdf5.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern "C" void openblas_set_num_threads(int);  // Debian's libopenblas, which FAISS links

using idx_t = faiss::Index::idx_t;  // faiss::idx_t from 1.7.4 on

namespace {

struct Args {
  std::string data;
  std::vector<std::string> specs;
  std::vector<int> nprobes{1};
  std::vector<int> reranks{1};
  std::vector<int> threads{1};
  int k = 10;
  int queries = 1000;
  int build_threads = 2;
  long max_train = 100000;
  long seed = -1;  // FAISS's own (1234) unless given
  double warmup = 1.0;
  double min_time = 1.0;
  int min_passes = 5;
  bool single = true;
  std::string out;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
      "%s\nusage: faiss_spec_bench DATA.hdf5 --spec SPEC [--spec SPEC...] [--nprobe 1,16]\n"
      "  [--rerank 1,4] [--threads 1,2] [--k 10] [--queries 1000] [--build-threads 2]\n"
      "  [--max-train 100000] [--seed N] [--warmup 1.0] [--min-time 1.0] [--min-passes 5]\n"
      "  [--no-single] [--out FILE.jsonl]\n",
      why.c_str());
  std::exit(2);
}

std::vector<int> ints(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    v.push_back(std::stoi(item));
  }
  if (v.empty()) usage("empty list: " + s);
  return v;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; i++) {
    std::string o = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage(o + " needs a value");
      return argv[++i];
    };
    if (o == "--spec") a.specs.push_back(val());
    else if (o == "--nprobe") a.nprobes = ints(val());
    else if (o == "--rerank") a.reranks = ints(val());
    else if (o == "--threads") a.threads = ints(val());
    else if (o == "--k") a.k = std::stoi(val());
    else if (o == "--queries") a.queries = std::stoi(val());
    else if (o == "--build-threads") a.build_threads = std::stoi(val());
    else if (o == "--max-train") a.max_train = std::stol(val());
    else if (o == "--seed") a.seed = std::stol(val());
    else if (o == "--warmup") a.warmup = std::stod(val());
    else if (o == "--min-time") a.min_time = std::stod(val());
    else if (o == "--min-passes") a.min_passes = std::stoi(val());
    else if (o == "--no-single") a.single = false;
    else if (o == "--out") a.out = val();
    else if (o == "-h" || o == "--help") usage("");
    else if (!o.empty() && o[0] == '-') usage("unknown option " + o);
    else if (a.data.empty()) a.data = o;
    else usage("one data file only");
  }
  if (a.data.empty() || a.specs.empty()) usage("DATA.hdf5 and --spec are required");
  if (a.k < 10) usage("--k must be at least 10 (recall@10)");
  if (a.min_passes < 1) usage("--min-passes must be at least 1");
  return a;
}

// ---- HDF5 (ann-benchmarks layout) ----

template <typename T>
std::vector<T> read_matrix(hid_t file, const char* name, hid_t type, size_t& rows, size_t& cols) {
  hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
  if (ds < 0) throw std::runtime_error(std::string("no dataset '") + name + "'");
  hid_t space = H5Dget_space(ds);
  hsize_t dims[2] = {0, 0};
  if (H5Sget_simple_extent_ndims(space) != 2) throw std::runtime_error(std::string(name) + ": not 2-d");
  H5Sget_simple_extent_dims(space, dims, nullptr);
  rows = dims[0];
  cols = dims[1];
  std::vector<T> v(rows * cols);
  if (H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) {
    throw std::runtime_error(std::string("cannot read ") + name);
  }
  H5Sclose(space);
  H5Dclose(ds);
  return v;
}

std::string read_distance(hid_t file) {
  hid_t attr = H5Aopen(file, "distance", H5P_DEFAULT);
  if (attr < 0) throw std::runtime_error("no 'distance' attribute");
  hid_t type = H5Aget_type(attr);
  std::string s;
  if (H5Tget_class(type) != H5T_STRING) throw std::runtime_error("'distance' is not a string");
  // the memory type in the file's character set (h5py writes UTF-8; ASCII <-> UTF-8 does not convert)
  hid_t mem = H5Tcopy(H5T_C_S1);
  H5Tset_cset(mem, H5Tget_cset(type));
  if (H5Tis_variable_str(type) > 0) {
    char* p = nullptr;
    H5Tset_size(mem, H5T_VARIABLE);
    if (H5Aread(attr, mem, &p) < 0) throw std::runtime_error("cannot read 'distance'");
    s = p ? p : "";
    H5free_memory(p);
  } else {
    size_t n = H5Tget_size(type);
    std::vector<char> buf(n + 1, 0);
    H5Tset_size(mem, n + 1);
    H5Tset_strpad(mem, H5T_STR_NULLTERM);
    if (H5Aread(attr, mem, buf.data()) < 0) throw std::runtime_error("cannot read 'distance'");
    s = buf.data();
  }
  H5Tclose(mem);
  H5Tclose(type);
  H5Aclose(attr);
  return s;
}

// ---- timing: the same rules as Codebook's PassTimer ----

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_now() {  // the whole process: every OpenMP, OpenBLAS and caller thread
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Timing {
  double median, min, max;
  int passes;
  double cpu_qps;  // queries per second of process CPU time over all the timed passes
};

// `pass` searches every query once. The first call is the caller's (it gives the answers);
// here: warm-up passes for `warmup` seconds, then timed passes until both minimums are met.
Timing time_passes(const std::function<void()>& pass, size_t nq, const Args& a) {
  for (double w0 = now(); now() - w0 < a.warmup;) pass();
  std::vector<double> qps;
  double cpu0 = cpu_now();
  double start = now();
  while ((int)qps.size() < a.min_passes || now() - start < a.min_time) {
    double p0 = now();
    pass();
    qps.push_back(nq / (now() - p0));
  }
  double cpu_qps = qps.size() * nq / (cpu_now() - cpu0);
  std::vector<double> s = qps;
  std::sort(s.begin(), s.end());
  size_t m = s.size();
  double median = m % 2 ? s[m / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
  return {median, s.front(), s.back(), (int)m, cpu_qps};
}

void set_threads(int t) {
  omp_set_num_threads(t);
  openblas_set_num_threads(t);
}

// ---- index helpers ----

void seed_kmeans(faiss::Index* index, long seed) {
  faiss::Index* inner = index;
  if (auto* r = dynamic_cast<faiss::IndexRefine*>(inner)) inner = r->base_index;
  if (auto* pt = dynamic_cast<faiss::IndexPreTransform*>(inner)) inner = pt->index;
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(inner)) ivf->cp.seed = seed;
  if (auto* x = dynamic_cast<faiss::IndexIVFPQ*>(inner)) x->pq.cp.seed = seed + 1;
  if (auto* x = dynamic_cast<faiss::IndexIVFPQFastScan*>(inner)) x->pq.cp.seed = seed + 1;
  if (auto* x = dynamic_cast<faiss::IndexPQ*>(inner)) x->pq.cp.seed = seed + 1;
  if (auto* x = dynamic_cast<faiss::IndexPQFastScan*>(inner)) x->pq.cp.seed = seed + 1;
}

faiss::IndexIVF* find_ivf(faiss::Index* index) {
  if (auto* r = dynamic_cast<faiss::IndexRefine*>(index)) index = r->base_index;
  return faiss::ivflib::try_extract_index_ivf(index);
}

std::string fmt(double v, int digits) {
  char buf[64];
  double s = std::pow(10.0, digits);
  std::snprintf(buf, sizeof buf, "%.*f", digits, std::round(v * s) / s);
  // trim trailing zeros the way Java/Python print doubles (keep one decimal)
  std::string t = buf;
  if (t.find('.') != std::string::npos) {
    while (t.size() > 2 && t.back() == '0' && t[t.size() - 2] != '.') t.pop_back();
  }
  return t;
}

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  std::unique_ptr<std::ofstream> out;
  if (!a.out.empty()) out.reset(new std::ofstream(a.out, std::ios::app));

  hid_t file = H5Fopen(a.data.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    std::fprintf(stderr, "cannot open %s\n", a.data.c_str());
    return 1;
  }
  size_t n, d, nq_all, dq, ng, kg;
  std::vector<float> xb = read_matrix<float>(file, "train", H5T_NATIVE_FLOAT, n, d);
  std::vector<float> xq = read_matrix<float>(file, "test", H5T_NATIVE_FLOAT, nq_all, dq);
  std::vector<long> gt = read_matrix<long>(file, "neighbors", H5T_NATIVE_LONG, ng, kg);
  std::string metric = read_distance(file);
  H5Fclose(file);
  if (dq != d) throw std::runtime_error("train and test dimensions differ");
  size_t nq = a.queries > 0 ? std::min<size_t>(a.queries, nq_all) : nq_all;
  xq.resize(nq * d);
  if (kg < (size_t)10) throw std::runtime_error("neighbors: fewer than 10 a query");
  faiss::MetricType mt = metric == "angular" ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2;
  if (metric == "angular") {
    faiss::fvec_renorm_L2(d, n, xb.data());
    faiss::fvec_renorm_L2(d, nq, xq.data());
  }
  // Training rows: all of them up to --max-train (so on the Debian sets, 28,000 rows, exactly
  // what tools/faiss_spec_bench.py trains on); above that a seeded sample in row order.
  std::vector<float> xt_sample;
  const float* xt = xb.data();
  size_t nt = n;
  if ((long)n > a.max_train) {
    std::vector<int> perm(n);
    faiss::rand_perm(perm.data(), n, 123);
    std::vector<int> rows(perm.begin(), perm.begin() + a.max_train);
    std::sort(rows.begin(), rows.end());
    nt = rows.size();
    xt_sample.resize(nt * d);
    for (size_t i = 0; i < nt; i++) {
      std::memcpy(&xt_sample[i * d], &xb[rows[i] * d], d * sizeof(float));
    }
    xt = xt_sample.data();
  }
  std::string dataset = a.data.substr(a.data.find_last_of('/') + 1);
  dataset = dataset.substr(0, dataset.rfind('.'));
  std::string opts = faiss::get_compile_options();
  std::string build = opts.find("AVX512") != std::string::npos ? "avx512"
      : opts.find("AVX2") != std::string::npos ? "avx2" : "generic";
  char sys[64];
  std::snprintf(sys, sizeof sys, "faiss-%d.%d.%d-%s", FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR,
      FAISS_VERSION_PATCH, build.c_str());
  const char* wait = std::getenv("OMP_WAIT_POLICY");
  int k = a.k;

  for (const std::string& spec : a.specs) {
    set_threads(a.build_threads);
    std::unique_ptr<faiss::Index> index(faiss::index_factory(d, spec.c_str(), mt));
    if (a.seed >= 0) seed_kmeans(index.get(), a.seed);
    std::fprintf(stderr, "[faiss] %s: training on %zu rows\n", spec.c_str(), nt);
    double t0 = now();
    index->train(nt, xt);
    double train_s = now() - t0;
    t0 = now();
    index->add(n, xb.data());
    double add_s = now() - t0;
    faiss::VectorIOWriter w;
    faiss::write_index(index.get(), &w);
    double bytes_per_vector = (double)w.data.size() / n;
    auto* refine = dynamic_cast<faiss::IndexRefine*>(index.get());
    faiss::IndexIVF* ivf = find_ivf(index.get());
    std::vector<int> probes = ivf ? a.nprobes : std::vector<int>{1};
    std::vector<int> factors = refine ? a.reranks : std::vector<int>{1};

    std::vector<idx_t> I(nq * k), I1(nq * k);
    std::vector<float> D(nq * k), D1(nq * k);
    for (int p : probes) {
      if (ivf) {
        if ((size_t)p > ivf->nlist) continue;
        ivf->nprobe = p;
      }
      for (int kf : factors) {
        if (refine) refine->k_factor = kf;
        for (int threads : a.threads) {
          // batched: one call with every query
          set_threads(threads);
          auto batched = [&]() { index->search(nq, xq.data(), k, D.data(), I.data()); };
          batched();  // its answers give the recall
          Timing tb = time_passes(batched, nq, a);

          // one query per call, from `threads` callers
          Timing t1{0, 0, 0, 0, 0};
          if (a.single) {
            std::vector<idx_t> Iq(k);
            std::vector<float> Dq(k);
            auto singles = [&](idx_t* ids, float* dist) {
              if (threads == 1) {
                for (size_t q = 0; q < nq; q++) {
                  index->search(1, &xq[q * d], k, dist ? dist + q * k : Dq.data(),
                      ids ? ids + q * k : Iq.data());
                }
                return;
              }
              std::atomic<size_t> next{0};
              std::vector<std::thread> ts;
              for (int t = 0; t < threads; t++) {
                ts.emplace_back([&]() {
                  omp_set_num_threads(1);
                  std::vector<idx_t> ii(k);
                  std::vector<float> dd(k);
                  size_t q;
                  while ((q = next.fetch_add(1)) < nq) {
                    index->search(1, &xq[q * d], k, dist ? dist + q * k : dd.data(),
                        ids ? ids + q * k : ii.data());
                  }
                });
              }
              for (auto& t : ts) t.join();
            };
            set_threads(1);
            singles(I1.data(), D1.data());
            t1 = time_passes([&]() { singles(nullptr, nullptr); }, nq, a);
          }

          auto recall = [&](const std::vector<idx_t>& ids, int r) {
            long hits = 0;
            for (size_t q = 0; q < nq; q++) {
              for (int i = 0; i < r; i++) {
                idx_t id = ids[q * k + i];
                if (id < 0) continue;
                for (int j = 0; j < r; j++) {
                  if (gt[q * kg + j] == id) {
                    hits++;
                    break;
                  }
                }
              }
            }
            return hits / ((double)nq * r);
          };
          std::ostringstream js;
          js << "{\"system\":" << json_str(sys) << ",\"index\":" << json_str(spec)
             << ",\"params\":\"nprobe=" << p << ",rerank=" << kf << "\""
             << ",\"bytes_per_vector\":" << fmt(bytes_per_vector, 2)
             << ",\"train_s\":" << fmt(train_s, 3) << ",\"add_s\":" << fmt(add_s, 3)
             << ",\"recall@1\":" << fmt(recall(I, 1), 4) << ",\"recall@10\":" << fmt(recall(I, 10), 4)
             << ",\"qps\":" << fmt(tb.median, 1) << ",\"threads\":" << threads;
          if (a.single) {
            js << ",\"qps_1q\":" << fmt(t1.median, 1)
               << ",\"recall@10_1q\":" << fmt(recall(I1, 10), 4);
          }
          js << ",\"qps_min\":" << fmt(tb.min, 1) << ",\"qps_max\":" << fmt(tb.max, 1)
             << ",\"passes\":" << tb.passes << ",\"qps_cpu\":" << fmt(tb.cpu_qps, 1);
          if (a.single) {
            js << ",\"qps_1q_min\":" << fmt(t1.min, 1) << ",\"qps_1q_max\":" << fmt(t1.max, 1)
               << ",\"passes_1q\":" << t1.passes << ",\"qps_1q_cpu\":" << fmt(t1.cpu_qps, 1);
          }
          js << ",\"warmup_s\":" << fmt(a.warmup, 2) << ",\"min_time_s\":" << fmt(a.min_time, 2)
             << ",\"min_passes\":" << a.min_passes << ",\"timing\":\"c++\""
             << ",\"omp_wait_policy\":" << json_str(wait ? wait : "")
             << ",\"seed\":" << (a.seed >= 0 ? a.seed : 1234) << ",\"dataset\":" << json_str(dataset)
             << ",\"n\":" << n << ",\"d\":" << d << ",\"metric\":" << json_str(metric)
             << ",\"nq\":" << nq << ",\"k\":" << k << ",\"build_threads\":" << a.build_threads
             << ",\"train_rows\":" << nt << "}";
          std::string line = js.str();
          std::printf("%s\n", line.c_str());
          std::fflush(stdout);
          if (out) {
            *out << line << "\n";
            out->flush();
          }
          std::fprintf(stderr, "[faiss] %s nprobe=%d,rerank=%d threads=%d: recall@10 %.4f, %.0f QPS batched, %.0f one per call\n",
              spec.c_str(), p, kf, threads, recall(I, 10), tb.median, t1.median);
        }
      }
    }
  }
  return 0;
}
