/** `eci-bridge emulate eci|mns|bss [--port N] [--scenario FILE]`: runs an emulator on loopback for manual use. */
export const summary = 'run the ECI, MNS or BSS (billing, with its ECI) emulator on loopback (emulate eci|mns|bss [--port N] [--scenario FILE])';

export async function run(argv: string[]): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind !== 'eci' && kind !== 'mns' && kind !== 'bss') {
    process.stderr.write('usage: eci-bridge emulate eci|mns|bss [--port N] [--scenario FILE]\n');
    return 2;
  }
  const mod = (await import(`../../emulators/${kind}/main.ts`)) as { main(argv: string[]): Promise<number> };
  return mod.main(rest);
}
