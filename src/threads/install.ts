// Loaded with the pool (see api.ts): makes the split operations available to the library.
import { installThreadHooks } from "./hooks.js";
import { elementwiseEach, matmulShares, matmulSplit, nchwSplit, reduceEach } from "./parallel.js";
import { beginStep, endStep } from "./step-batch.js";
import { threadCount } from "./pool.js";

installThreadHooks({ matmulShares, matmulSplit, reduceEach, elementwiseEach, nchwSplit, threadCount, beginStep, endStep });
