// Generates docs/API.md, the API reference, from the TSDoc comments of everything the package
// exports (src/index.ts and the other entries), with the TypeScript compiler's own view of the
// declarations. It also lists what is undocumented: an export, a public class member, or a
// property of an exported options interface without a comment.
//   node scripts/api-docs.mjs           write docs/API.md (fails if anything is undocumented)
//   node scripts/api-docs.mjs --check   exit 1 when docs/API.md is stale or anything is undocumented
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("../", import.meta.url));
/** The package's entries: subpath → source file. */
export const ENTRIES = [["simdopt", "src/index.ts"], ["simdopt/tfjs", "src/interop/tfjs.ts"]];

function program() {
  const files = ENTRIES.map(([, file]) => `${root}${file}`);
  const config = ts.getParsedCommandLineOfConfigFile(`${root}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  return ts.createProgram(files, config.options);
}

const flags = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope;

function docOf(checker, symbol) {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const tags = symbol.getJsDocTags(checker).filter((tag) => tag.name !== "internal")
    .map((tag) => `*@${tag.name}* ${ts.displayPartsToString(tag.text ?? []).trim()}`.trim());
  return [text, ...tags].filter(Boolean).join("\n\n");
}

const isInternal = (checker, symbol) => symbol.getJsDocTags(checker).some((tag) => tag.name === "internal");
const isPublicMember = (declaration) => {
  const modifiers = ts.getCombinedModifierFlags(declaration);
  return !(modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) && !(declaration.name && ts.isPrivateIdentifier(declaration.name));
};

/** Members of an exported class or interface worth documenting, with their docs. */
function membersOf(checker, symbol, problems, owner) {
  const members = [];
  const declaration = symbol.declarations?.[0];
  if (declaration === undefined) return members;
  const isClass = ts.isClassDeclaration(declaration);
  const type = checker.getDeclaredTypeOfSymbol(symbol);
  const own = isClass ? declaration.members : ts.isInterfaceDeclaration(declaration) ? declaration.members : [];
  for (const member of own) {
    if (ts.isConstructorDeclaration(member) || ts.isIndexSignatureDeclaration(member) || ts.isClassStaticBlockDeclaration(member)) continue;
    if (!isPublicMember(member) || member.name === undefined) continue;
    const memberSymbol = checker.getSymbolAtLocation(member.name) ?? type.getProperty(member.name.getText());
    if (memberSymbol === undefined || isInternal(checker, memberSymbol)) continue;
    const name = member.name.getText();
    if (members.some((entry) => entry.name === name)) continue;
    const doc = docOf(checker, memberSymbol);
    if (!doc) problems.push(`${owner}.${name}`);
    let signature;
    if (ts.isMethodDeclaration(member) || ts.isMethodSignature(member)) {
      const sig = checker.getSignatureFromDeclaration(member);
      signature = `${name}${checker.signatureToString(sig, member, flags)}`.replace(/\): /, "): ");
    } else {
      const memberType = checker.getTypeOfSymbolAtLocation(memberSymbol, member);
      const readonly = ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Readonly || (ts.isGetAccessor(member) && !own.some((m) => ts.isSetAccessor(m) && m.name.getText() === name));
      const optional = member.questionToken ? "?" : "";
      signature = `${readonly ? "readonly " : ""}${name}${optional}: ${checker.typeToString(memberType, member, flags)}`;
    }
    members.push({ name, signature, doc });
  }
  return members;
}

const KIND = (declaration) =>
  ts.isClassDeclaration(declaration) ? "class"
    : ts.isFunctionDeclaration(declaration) ? "function"
      : ts.isInterfaceDeclaration(declaration) ? "interface"
        : ts.isTypeAliasDeclaration(declaration) ? "type"
          : ts.isVariableDeclaration(declaration) ? "const" : "export";

/** `{ markdown, problems }`: the reference and the list of undocumented things. */
export function generate() {
  const prog = program();
  const checker = prog.getTypeChecker();
  const problems = [];
  const sections = [];
  for (const [entry, file] of ENTRIES) {
    const source = prog.getSourceFile(`${root}${file}`);
    if (source === undefined) continue;
    const moduleSymbol = checker.getSymbolAtLocation(source);
    const groups = new Map();
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declaration = symbol.declarations?.[0];
      // @internal exports (test and benchmark hooks) are stripped from the published types too.
      if (declaration === undefined || isInternal(checker, symbol)) continue;
      const name = exported.getName();
      const kind = KIND(declaration);
      const doc = docOf(checker, symbol);
      if (!doc) problems.push(`${entry}: ${name}`);
      const from = declaration.getSourceFile().fileName.slice(root.length);
      let signature;
      if (kind === "function") {
        signature = checker.getSignaturesOfType(checker.getTypeOfSymbolAtLocation(symbol, declaration), ts.SignatureKind.Call)
          .map((sig) => `function ${name}${checker.signatureToString(sig, declaration, flags)}`).join("\n");
      } else if (kind === "class") {
        const ctor = checker.getTypeOfSymbolAtLocation(symbol, declaration);
        const signatures = checker.getSignaturesOfType(ctor, ts.SignatureKind.Construct);
        signature = signatures.map((sig) => `new ${name}${checker.signatureToString(sig, declaration, flags).replace(/: [^:]+$/, "")}`).join("\n");
      } else if (kind === "type") {
        signature = `type ${name} = ${checker.typeToString(checker.getDeclaredTypeOfSymbol(symbol), declaration, flags | ts.TypeFormatFlags.InTypeAlias)}`;
      } else if (kind === "const") {
        signature = `const ${name}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, declaration), declaration, flags)}`;
      } else {
        signature = `interface ${name}`;
      }
      const members = kind === "class" || kind === "interface" ? membersOf(checker, symbol, problems, name) : [];
      if (!groups.has(from)) groups.set(from, []);
      groups.get(from).push({ name, kind, doc, signature, members });
    }
    const lines = [`## \`${entry}\``, ""];
    for (const [from, items] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`### ${from.replace(/^src\//, "").replace(/\.ts$/, "")}`, "");
      for (const item of items) {
        lines.push(`#### ${item.kind} \`${item.name}\``, "", "```ts", item.signature, "```", "", item.doc || "*(undocumented)*", "");
        for (const member of item.members) {
          lines.push(`- \`${member.signature}\`${member.doc ? ` — ${member.doc.replace(/\n+/g, " ")}` : ""}`);
        }
        if (item.members.length > 0) lines.push("");
      }
    }
    sections.push(lines.join("\n"));
  }
  const markdown = `# simdopt API reference\n\nGenerated from the TSDoc comments of the sources by \`npm run docs\` (scripts/api-docs.mjs); a test keeps it current and fails when an export, a public member or an option is undocumented. Defaults and semantics follow PyTorch unless a comment says otherwise. \`simdopt/slim\` exports exactly what \`simdopt\` does; only its \`init\`/\`initSync\` need the wasm passed in.\n\n${sections.join("\n")}`;
  return { markdown: `${markdown.trimEnd()}\n`, problems };
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const { markdown, problems } = generate();
  const target = `${root}docs/API.md`;
  if (problems.length > 0) console.error(`undocumented:\n  ${problems.join("\n  ")}`);
  if (process.argv.includes("--check")) {
    let current = "";
    try { current = readFileSync(target, "utf8"); } catch { /* missing counts as stale */ }
    if (current !== markdown) console.error("docs/API.md is stale: run `npm run docs`");
    process.exit(current === markdown && problems.length === 0 ? 0 : 1);
  }
  mkdirSync(`${root}docs`, { recursive: true });
  writeFileSync(target, markdown);
  console.log(`docs/API.md written (${markdown.split("\n").length} lines)`);
  process.exit(problems.length === 0 ? 0 : 1);
}
