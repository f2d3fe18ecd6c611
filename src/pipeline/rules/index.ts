import type { BaseRule, FileRule, SetRule } from './rule.ts';
import { breakingChange } from './breaking-change.ts';
import { createFields } from './create-fields.ts';
import { dingtalkApiDates } from './dingtalk-api-dates.ts';
import { duplicateKey } from './duplicate-key.ts';
import { endpointUrl } from './endpoint-url.ts';
import { fieldDefault } from './field-default.ts';
import { fieldShape } from './field-shape.ts';
import { fileName } from './file-name.ts';
import { eventsSecret } from './events-secret.ts';
import { humanStep } from './human-step.ts';
import { literalSecret } from './literal-secret.ts';
import { managedForm } from './managed-form.ts';
import { origin } from './origin.ts';
import { providerCode } from './provider-code.ts';
import { schemaModeline } from './schema-modeline.ts';
import { secretEnv } from './secret-env.ts';
import { stageMode } from './stage-mode.ts';
import { stageNode } from './stage-node.ts';
import { uniqueDefinition } from './unique-definition.ts';
import { uniqueField } from './unique-field.ts';
import { uniqueName } from './unique-name.ts';
import { uniqueWidget } from './unique-widget.ts';
import { versionBump } from './version-bump.ts';
import { wecomWidget } from './wecom-widget.ts';

export const fileRules: readonly FileRule[] = [
  literalSecret,
  secretEnv,
  eventsSecret,
  providerCode,
  origin,
  createFields,
  dingtalkApiDates,
  wecomWidget,
  managedForm,
  stageNode,
  stageMode,
  humanStep,
  endpointUrl,
  uniqueField,
  duplicateKey,
  uniqueWidget,
  fieldShape,
  fieldDefault,
  fileName,
  schemaModeline,
];

export const setRules: readonly SetRule[] = [uniqueName, uniqueDefinition];

export const baseRules: readonly BaseRule[] = [versionBump, breakingChange];

export type { BaseRule, FileRule, RuleContext, SetRule } from './rule.ts';
