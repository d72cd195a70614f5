import { Runc } from "../../src/runtime/runc.js";
import { ociRuntimeContract } from "./oci-runtime-contract.js";

// runc as Berth runs it: start and the delete of a stopped container done on runc's state files.
ociRuntimeContract("runc", (state) => new Runc("runc", state));

// runc through its command line alone, as any other runtime (crun, youki) is driven.
ociRuntimeContract("runc, command line only", (state) => new Runc("runc", state, { stateShortcuts: false }));

// Another runtime with runc's command line: BERTH_CONTRACT_RUNTIMES=crun,/opt/youki (crun refuses
// this kind of host's hybrid cgroups, so it is not run by default).
for (const name of (process.env.BERTH_CONTRACT_RUNTIMES ?? "").split(",").filter(Boolean))
  ociRuntimeContract(name, (state) => new Runc(name, state));
