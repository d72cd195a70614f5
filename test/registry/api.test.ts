import { startBerthRegistry } from "../helpers/processes.js";
import { registryApiSuite } from "./api-suite.js";

registryApiSuite("registry API", () => startBerthRegistry());
