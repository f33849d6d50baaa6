#!/usr/bin/env node
import { launch } from '@pcapmesh/shared/launch';

await launch(import.meta.url, 'main');
