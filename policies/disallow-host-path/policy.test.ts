import { runFixtures } from '../../test/helpers/fixtures.js';
import { fixtures } from './fixtures.js';

runFixtures('disallow-host-path', fixtures);
