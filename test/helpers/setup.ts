import { stopTestDatabases } from './postgres';

// Every test file that used a database stops its server when its tests are done.
afterAll(stopTestDatabases);
