// Every command, registered explicitly in one place.

import type { CommandClass } from 'clipanion';
import type { TspodContext } from './context';
import { PullCommand } from './image/pull';
import { ImagesCommand } from './image/images';
import { ImageInspectCommand } from './image/inspect';
import { RmiCommand } from './image/rmi';
import { TagCommand, UntagCommand } from './image/tag';
import { ImagePruneCommand } from './image/prune';
import { LoginCommand, LogoutCommand } from './image/login';
import { UnshareCommand } from './system/unshare';
import { VersionCommand } from './system/version';
import { InfoCommand } from './system/info';

export function commandClasses(): Array<CommandClass<TspodContext>> {
  return [
    PullCommand,
    ImagesCommand,
    ImageInspectCommand,
    RmiCommand,
    TagCommand,
    UntagCommand,
    ImagePruneCommand,
    LoginCommand,
    LogoutCommand,
    UnshareCommand,
    VersionCommand,
    InfoCommand,
  ];
}
