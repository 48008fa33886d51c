// Rebuilds <Name>.json from each <Name>.sol here with solc-js (see README.md).
const fs = require("fs");
const path = require("path");
const solc = require("solc");

for (const name of ["TestToken", "Forwarder"]) build(name);

function build(name) {
const source = fs.readFileSync(path.join(__dirname, name + ".sol"), "utf8");
const input = {
  language: "Solidity",
  sources: { [name + ".sol"]: { content: source } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
for (const e of output.errors || []) {
  console.error(e.formattedMessage);
  if (e.severity === "error") process.exit(1);
}
const c = output.contracts[name + ".sol"][name];
const out = { compiler: "solc-js " + solc.version(), abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
fs.writeFileSync(path.join(__dirname, name + ".json"), JSON.stringify(out, null, 1) + "\n");
console.log("wrote " + name + ".json with", out.compiler);
}
