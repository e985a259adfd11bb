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
import { RunCommand, CreateCommand } from './container/run';
import { PsCommand } from './container/ps';
import { StopCommand, StartCommand, RestartCommand, KillCommand, WaitCommand } from './container/lifecycle';
import { LogsCommand } from './container/logs';
import { InspectCommand } from './container/inspect';
import { RmCommand, ContainerPruneCommand } from './container/rm';
import { ExecCommand } from './container/exec';
import { AttachCommand } from './container/attach';
import { TopCommand } from './container/top';
import { CpCommand } from './container/cp';
import { VersionCommand } from './system/version';
import { InfoCommand } from './system/info';
import { GenerateSystemdCommand } from './generate/systemd';
import { GenerateKubeCommand } from './generate/kube';
import { CompletionCommand } from './system/completion';
import { CompleteCommand } from './system/complete';
import { VolumeCreateCommand, VolumeLsCommand, VolumeInspectCommand, VolumeRmCommand, VolumePruneCommand } from './volume/volume';

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
    RunCommand,
    CreateCommand,
    PsCommand,
    StopCommand,
    StartCommand,
    RestartCommand,
    KillCommand,
    WaitCommand,
    LogsCommand,
    InspectCommand,
    RmCommand,
    ContainerPruneCommand,
    ExecCommand,
    AttachCommand,
    TopCommand,
    CpCommand,
    VolumeCreateCommand,
    VolumeLsCommand,
    VolumeInspectCommand,
    VolumeRmCommand,
    VolumePruneCommand,
    VersionCommand,
    InfoCommand,
    GenerateSystemdCommand,
    GenerateKubeCommand,
    CompletionCommand,
    CompleteCommand,
  ];
}
