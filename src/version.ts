/**
 * Berth's version, the one place it is written: the CLI's --version, swagger.json and systeminfo read it
 * from here. version.test.ts keeps it equal to package.json's.
 */
export const berthVersion = '0.1.0';
